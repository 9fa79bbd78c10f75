// Interruptions and concurrent use leave no mess: a join stopped by SIGTERM or SIGINT removes
// everything it had created on the broker; one agent per state directory (the second is refused
// and names the holder, `moor leave` stops the holder); a second leave succeeds; the agent's DNS
// keeps answering UDP and well-behaved TCP clients while another source floods it with slow TCP
// connections. All on the real API server, real namespaces and the shipped bundle.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { CoreV1Api, CustomObjectsApi, RbacAuthorizationV1Api } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiServer } from '../harness/apiserver.ts';
import type { BrokerFixture } from '../harness/broker.ts';
import { startBrokerAndHost } from '../harness/broker-and-host.ts';
import { expectOneMessage } from '../harness/cli-output.ts';
import { moor, startMoor } from '../harness/moor.ts';
import { type RunningProcess, waitFor } from '../harness/process.ts';
import { TestRun } from '../harness/run.ts';
import type { Topology } from '../harness/topology.ts';

let run: TestRun;
let topo: Topology;
let api: ApiServer;
let broker: BrokerFixture;
let good: string;

beforeAll(async () => {
  run = TestRun.start();
  ({ topo, api, broker, brokerInfo: good } = await startBrokerAndHost(run));
});

afterAll(async () => {
  await run?.cleanup();
});

/** Every broker object that belongs to `clusterId`, as "Kind name" (admin view). */
async function brokerObjectsOf(clusterId: string): Promise<string[]> {
  const ns = broker.namespace;
  const core = api.kubeConfig().makeApiClient(CoreV1Api);
  const rbac = api.kubeConfig().makeApiClient(RbacAuthorizationV1Api);
  const custom = api.kubeConfig().makeApiClient(CustomObjectsApi);
  const prefix = `cluster-${clusterId}`;
  const named = (
    kind: string,
    items: Array<{ metadata?: { name?: string } }>,
    keep: (n: string) => boolean,
  ) =>
    items
      .map((i) => i.metadata?.name ?? '')
      .filter(keep)
      .map((n) => `${kind} ${n}`);
  const crs = async (plural: string) =>
    (
      (await custom.listNamespacedCustomObject({
        group: 'submariner.io',
        version: 'v1',
        namespace: ns,
        plural,
      })) as {
        items: Array<{ metadata: { name: string }; spec: { cluster_id?: string } }>;
      }
    ).items;
  return [
    ...named(
      'ServiceAccount',
      (await core.listNamespacedServiceAccount({ namespace: ns })).items,
      (n) => n === prefix,
    ),
    ...named('RoleBinding', (await rbac.listNamespacedRoleBinding({ namespace: ns })).items, (n) =>
      n.startsWith(`${prefix}-`),
    ),
    ...named('Secret', (await core.listNamespacedSecret({ namespace: ns })).items, (n) =>
      n.startsWith(`${prefix}-`),
    ),
    ...(await core.listNamespacedConfigMap({ namespace: ns })).items
      .filter((c) => c.metadata?.labels?.['moor/cluster-id'] === clusterId)
      .map((c) => `ConfigMap ${c.metadata?.name}`),
    ...(await crs('clusters'))
      .filter((c) => c.metadata.name === clusterId)
      .map((c) => `Cluster ${c.metadata.name}`),
    ...(await crs('endpoints'))
      .filter((e) => e.spec.cluster_id === clusterId)
      .map((e) => `Endpoint ${e.metadata.name}`),
  ];
}

function joinArgs(clusterId: string, stateDir: string, extra: string[] = []): string[] {
  return [
    'join',
    good,
    '--clusterid',
    clusterId,
    '--state-dir',
    stateDir,
    '--interface',
    run.ifName('w'),
    ...extra,
  ];
}

describe('moor join interrupted', () => {
  it.each([
    ['SIGTERM', 143],
    ['SIGINT', 130],
  ] as const)('by %s rolls back everything it created on the broker and the host', async (signal, code) => {
    const clusterId = `sig${signal.toLowerCase()}`;
    const stateDir = join(run.dir, `state-${clusterId}`);
    // With the token controller paused, join stops at its last step (waiting for the member
    // token) with the address claim, ServiceAccount, RoleBinding and token Secret created.
    const controller = api.controllerManager as RunningProcess;
    controller.signal('SIGSTOP');
    try {
      const join = startMoor(
        topo.host('vm1'),
        `join-${clusterId}`,
        joinArgs(clusterId, stateDir, ['--no-start']),
      );
      await waitFor(
        'join to create its token Secret',
        async () =>
          (await brokerObjectsOf(clusterId)).some((o) => o.startsWith('Secret ')) ? true : undefined,
        { process: join },
      );
      // Listed again now that join is stuck waiting for the token: one poll may have listed the
      // ServiceAccounts before join created its own and the Secrets after.
      const created = await brokerObjectsOf(clusterId);
      expect(created.map((o) => o.split(' ')[0]).sort()).toEqual([
        'ConfigMap',
        'RoleBinding',
        'Secret',
        'ServiceAccount',
      ]);
      join.signal(signal);
      const exit = await join.waitExit();
      expect(exit.code).toBe(code);
      expectOneMessage(join.log(), new RegExp(`join interrupted by ${signal}`));
      expect(await brokerObjectsOf(clusterId)).toEqual([]);
      expect(existsSync(stateDir)).toBe(false);
    } finally {
      controller.signal('SIGCONT');
    }
  });

  it('with a state directory under /proc fails at once, before the broker is touched', async () => {
    const r = await moor(topo.host('vm1'), joinArgs('procdir', '/proc/moor-state', ['--no-start']), {
      timeoutMs: 20_000, // it used to spin at 100 % CPU for ever
    });
    expect(r.code).toBe(2);
    expectOneMessage(r.stderr, /state directory \/proc\/moor-state: \/proc is on proc/);
    expect(await brokerObjectsOf('procdir')).toEqual([]);
  });
});

describe('one agent per state directory', () => {
  const stateDir = () => join(run.dir, 'state-lock');
  let first: RunningProcess;

  it('an agent that cannot serve metrics says so in one line and holds nothing', async () => {
    const vm1 = topo.host('vm1');
    const r = await moor(vm1, joinArgs('locked', stateDir(), ['--no-start']));
    expect(r.code, r.stderr).toBe(0);
    const squatter = vm1.spawn('metrics-squatter', [
      process.execPath,
      '-e',
      "require('net').createServer().listen(9476,'127.0.0.1',()=>console.log('listening'))",
    ]);
    await waitFor('the squatter to listen', () => (squatter.log().includes('listening') ? true : undefined));
    const agent = startMoor(vm1, 'agent-no-metrics', ['agent', '--state-dir', stateDir()]);
    const exit = await agent.waitExit();
    await squatter.stop();
    expect(exit.code).toBe(1);
    expectOneMessage(
      agent.log(),
      /cannot serve metrics on --metrics-address 127\.0\.0\.1:9476: .*EADDRINUSE/,
    );
    expect(existsSync(join(stateDir(), 'agent.lock'))).toBe(false);
  });

  it('a second agent is refused and names the first by its PID', async () => {
    const vm1 = topo.host('vm1');
    first = startMoor(vm1, 'agent-first', ['agent', '--state-dir', stateDir(), '--dns-listen', 'off']);
    await waitFor(
      'the first agent to report',
      async () => {
        const r = await moor(vm1, ['status', '-o', 'json', '--state-dir', stateDir()]);
        return r.code === 0 && (JSON.parse(r.stdout) as { pid: number }).pid === first.pid ? true : undefined;
      },
      { process: first },
    );
    const second = startMoor(vm1, 'agent-second', [
      'agent',
      '--state-dir',
      stateDir(),
      '--metrics-address',
      '127.0.0.1:9477',
    ]);
    const exit = await second.waitExit();
    expect(exit.code).toBe(1);
    expectOneMessage(second.log(), new RegExp(`another moor agent \\(pid ${first.pid},`));
    expect(first.running).toBe(true);
    // The first still owns the state: its status keeps coming from it.
    const r = await moor(vm1, ['status', '-o', 'json', '--state-dir', stateDir()]);
    expect((JSON.parse(r.stdout) as { pid: number; agentRunning: boolean }).agentRunning).toBe(true);
  });

  it('moor leave stops the agent that holds the lock, and a second leave succeeds', async () => {
    const vm1 = topo.host('vm1');
    const r = await moor(vm1, ['leave', good, '--state-dir', stateDir()]);
    expect(r.code, r.stderr).toBe(0);
    const exit = await first.waitExit();
    expect(exit.code).toBe(0); // stopped by SIGTERM, cleanly
    expect(existsSync(stateDir())).toBe(false);
    expect(await brokerObjectsOf('locked')).toEqual([]);
    for (const args of [
      ['leave', '--state-dir', stateDir()],
      ['leave', good, '--state-dir', stateDir()],
    ]) {
      const again = await moor(vm1, args);
      expect(again.code, again.stderr).toBe(0);
      expect(again.stderr).toMatch(/not joined .*nothing to leave/);
    }
  });
});

describe('clusterset DNS under a TCP slow-client flood', () => {
  it('answers UDP and well-behaved TCP queries from another source throughout', async () => {
    const vm1 = topo.host('vm1');
    const stateDir = join(run.dir, 'state-dns');
    const joined = await moor(vm1, joinArgs('dnsflood', stateDir, ['--no-start']));
    expect(joined.code, joined.stderr).toBe(0);
    const address = (JSON.parse(joined.stdout) as { addresses: string[] }).addresses[0];
    const exported = await moor(vm1, [
      'export',
      'service',
      'web',
      '-n',
      'shop',
      '--port',
      '80',
      '--health',
      'none',
      '--state-dir',
      stateDir,
    ]);
    expect(exported.code, exported.stderr).toBe(0);
    const agent = startMoor(vm1, 'agent-dns', [
      'agent',
      '--state-dir',
      stateDir,
      '--dns-listen',
      '10.99.0.3:53',
    ]);
    const dig = async (transport: '+notcp' | '+tcp') =>
      (
        await vm1.exec(
          [
            'dig',
            '@10.99.0.3',
            'web.shop.svc.clusterset.local',
            'A',
            '+short',
            '+tries=1',
            '+time=3',
            transport,
          ],
          { allowFail: true },
        )
      ).stdout.trim();
    await waitFor(
      'the agent to answer for its export',
      async () => ((await dig('+notcp')) === address ? true : undefined),
      {
        process: agent,
        timeoutMs: 60_000,
      },
    );
    // The attacker (the broker's namespace, another source address) keeps every connection it can
    // get open and trickles one byte into each every 200 ms.
    const flood = topo.host('broker').spawn('slow-flood', [
      process.execPath,
      '-e',
      `const net = require('net'); const open = new Set(); let opened = 0;
       setInterval(() => { for (let i = 0; i < 20; i++) { const s = net.connect(53, '10.99.0.3');
         opened++; open.add(s); s.on('error', () => {}); s.on('close', () => open.delete(s)); } }, 100);
       setInterval(() => { for (const s of open) s.write(Buffer.from([1])); }, 200);
       setInterval(() => console.log('opened', opened, 'open', open.size), 1000);`,
    ]);
    try {
      await waitFor(
        'the flood to hold connections',
        () => (/open [1-9]/.test(flood.log()) ? true : undefined),
        {
          process: flood,
        },
      );
      const answers: string[] = [];
      const deadline = Date.now() + 15_000; // past the idle timeout: slots are being recycled
      while (Date.now() < deadline) {
        answers.push(await dig('+tcp'), await dig('+notcp'));
      }
      expect(answers.length).toBeGreaterThan(10);
      expect(answers.filter((a) => a !== address)).toEqual([]);
      expect(flood.running).toBe(true);
      expect(agent.running).toBe(true);
      const lastCount = flood.log().trim().split('\n').at(-1) ?? '';
      expect(Number(/opened (\d+)/.exec(lastCount)?.[1])).toBeGreaterThan(1000); // a real flood
    } finally {
      await flood.stop();
      await agent.stop();
    }
  });
});
