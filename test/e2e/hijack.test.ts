// No member can cut or hijack another's cable (issue 8 item 2), and the status tells the truth
// about a cable whose health checks are lost (item 3). A hostile member, with its own member
// credential as a real one would have, publishes Endpoints whose subnets claim the addresses the
// cables depend on: another gateway's tunnel endpoint, the broker API server, the host's default
// gateway and nameserver, and special-purpose blocks. Pings cross every cable meanwhile and must
// not lose one; the agent keeps its broker watch (it sees each hostile object deleted); the
// rejections show in `moor status -o json`. Special-purpose addresses are also refused by
// `moor join` and `moor gateway` before they create anything.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { CoreV1Api, CustomObjectsApi } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AgentStatus, readStatus } from '../../src/cables/status.ts';
import {
  buildClusterset,
  type Clusterset,
  type JoinedHost,
  joinVm1,
  startGateway,
} from '../harness/clusterset.ts';
import { type HostileEndpointSpec, type HostileMember, hostileMember } from '../harness/hostile.ts';
import { moor } from '../harness/moor.ts';
import { type RunningProcess, waitFor } from '../harness/process.ts';
import { TestRun } from '../harness/run.ts';

let run: TestRun;
let cs: Clusterset;
let vm1: JoinedHost;
let hostile: HostileMember;
let eastEndpointIp = '';

const NAMESERVER = '10.99.0.53'; // vm1's resolver (off-link, reached through its default route)
const VM1_GATEWAY = '192.168.77.1';
const BROKER = '10.99.0.2';

type Rejected = AgentStatus['rejected'][number];

const group = { group: 'submariner.io', version: 'v1' } as const;

function vm1Status(): AgentStatus | undefined {
  return readStatus(vm1.stateDir);
}

const gatewayStatus = (gw: string) => readStatus(join(run.dir, `state-${gw}`));

async function connectedBoth(): Promise<void> {
  await waitFor(
    'vm1 connected to east and west',
    () => {
      const c = vm1Status()?.connections ?? [];
      return c.length === 2 && c.every((x) => x.status === 'connected') ? true : undefined;
    },
    { timeoutMs: 60_000, process: vm1.agent },
  );
}

beforeAll(async () => {
  run = TestRun.start();
  cs = await buildClusterset(run);
  // One gateway per cluster is enough here, and lighter on the shared machine.
  startGateway(run, cs, cs.clusters.east, 'egw1');
  startGateway(run, cs, cs.clusters.west, 'wgw1');
  cs.topo.host('vm1').setResolvConf(`nameserver ${NAMESERVER}\n`);
  vm1 = await joinVm1(run, cs);
  await connectedBoth();
  const eastEp = await waitFor('the east Endpoint', async () => {
    const list = (await cs.api
      .kubeConfig()
      .makeApiClient(CustomObjectsApi)
      .listNamespacedCustomObject({
        ...group,
        namespace: cs.broker.namespace,
        plural: 'endpoints',
      })) as { items: Array<{ spec: { cluster_id: string; private_ip: string } }> };
    return list.items.find((e) => e.spec.cluster_id === 'east');
  });
  eastEndpointIp = eastEp.spec.private_ip;
  hostile = await hostileMember(cs, 'evil');
});

afterAll(async () => {
  await run?.cleanup();
});

/** ping at 100/s; stop() returns the sequence numbers that got no reply (the last, in flight, excluded). */
function pingFlood(host: string, address: string): { proc: RunningProcess; stop: () => Promise<number[]> } {
  const proc = cs.topo.host(host).spawn(`ping-${address}`, ['ping', '-n', '-i', '0.01', address]);
  return {
    proc,
    stop: async () => {
      proc.signal('SIGINT');
      await proc.waitExit();
      const log = proc.log();
      const sent = Number(/(\d+) packets transmitted/.exec(log)?.[1] ?? 0);
      expect(sent).toBeGreaterThan(100);
      const answered = new Set([...log.matchAll(/icmp_seq=(\d+) /g)].map((m) => Number(m[1])));
      const lost: number[] = [];
      for (let seq = 1; seq < sent; seq += 1) if (!answered.has(seq)) lost.push(seq);
      return lost;
    },
  };
}

let counter = 0;
async function hostileEndpoint(spec: HostileEndpointSpec): Promise<string> {
  counter += 1;
  const name = `evil-hijack-${counter}`;
  await hostile.publish(name, spec);
  return name;
}

const rejectionOf = (status: AgentStatus | undefined, name: string): Rejected | undefined =>
  status?.rejected.find((r) => r.endpointName === name);

describe('hostile Endpoints cannot cut or hijack a cable', () => {
  it('rejects each class, loses no ping across any cable, and the agent sees each deletion', async () => {
    const wg = vm1Status()?.interface.name ?? '';
    const pings = [
      pingFlood('vm1', cs.clusters.east.podAddress),
      pingFlood('vm1', cs.clusters.west.podAddress),
      pingFlood(cs.clusters.east.pod, cs.clusters.west.podAddress),
    ];
    const cases: Array<{
      kind: string;
      spec: { subnets: string[]; private_ip?: string };
      code: string;
      reason: RegExp;
      onWest?: string;
    }> = [
      {
        kind: "east gateway's tunnel endpoint",
        spec: { subnets: [`${eastEndpointIp}/32`] },
        code: 'covers-member-endpoint',
        reason: new RegExp(
          `contains ${eastEndpointIp.replaceAll('.', '\\.')}, the private_ip of member east's tunnel endpoint`,
        ),
        onWest: 'covers-member-endpoint',
      },
      {
        kind: "east gateway's tunnel endpoint through a wider prefix",
        spec: { subnets: ['10.99.8.0/21'] },
        code: 'covers-member-endpoint',
        reason: /subnet 10\.99\.8\.0\/21 contains 10\.99\.10\.\d+, the private_ip of member east/,
        onWest: 'covers-member-endpoint',
      },
      {
        kind: 'the broker API server',
        spec: { subnets: [`${BROKER}/32`] },
        code: 'overlaps-protected',
        reason: /contains 10\.99\.0\.2, the broker API server/,
        onWest: 'overlaps-protected',
      },
      {
        kind: "vm1's default gateway",
        spec: { subnets: [`${VM1_GATEWAY}/32`] },
        code: 'overlaps-protected',
        reason: /contains 192\.168\.77\.1, this host's default gateway/,
      },
      {
        kind: "vm1's nameserver",
        spec: { subnets: [`${NAMESERVER}/32`] },
        code: 'overlaps-protected',
        reason: /contains 10\.99\.0\.53, one of this host's nameservers/,
      },
      ...['0.0.0.0/0', '127.0.0.0/8', '169.254.169.254/32', '224.0.0.0/4', '255.255.255.255/32'].map((s) => ({
        kind: `special-purpose subnet ${s}`,
        spec: { subnets: [s] },
        code: 'special-purpose-subnet',
        reason: new RegExp(`^subnet ${s.replaceAll('.', '\\.')} (covers|is inside) the `),
        onWest: 'special-purpose-subnet',
      })),
      {
        kind: 'a loopback tunnel endpoint',
        spec: { subnets: ['10.30.0.0/16'], private_ip: '127.0.0.1' },
        code: 'special-purpose-address',
        reason: /^private_ip 127\.0\.0\.1 is in the loopback block/,
        onWest: 'special-purpose-address',
      },
    ];
    for (const c of cases) {
      const name = await hostileEndpoint(c.spec);
      const rejected = await waitFor(`vm1 rejects ${c.kind}`, () => rejectionOf(vm1Status(), name), {
        process: vm1.agent,
      });
      expect(rejected, c.kind).toMatchObject({
        clusterId: 'evil',
        code: c.code,
        reason: expect.stringMatching(c.reason),
      });
      if (c.onWest) {
        // The gateways run the same planner: west's gateway protects its cable to east too.
        const onWest = await waitFor(`wgw1 rejects ${c.kind}`, () =>
          rejectionOf(gatewayStatus('wgw1'), name),
        );
        expect(onWest.code, c.kind).toBe(c.onWest);
      }
      const shown = await moor(cs.topo.host('vm1'), ['status', '-o', 'json', '--state-dir', vm1.stateDir]);
      expect((JSON.parse(shown.stdout) as AgentStatus).rejected, c.kind).toContainEqual(rejected);
      const metrics = await cs.topo
        .host('vm1')
        .exec([
          process.execPath,
          '-e',
          "fetch('http://127.0.0.1:9476/metrics').then(r=>r.text()).then(t=>process.stdout.write(t))",
        ]);
      expect(metrics.stdout, c.kind).toContain(`moor_rejected_endpoints{reason="${c.code}"} 1`);
      // No route for any hostile subnet: only east's and west's networks go into the tunnel.
      const routes = await cs.topo.host('vm1').exec(['ip', '-j', 'route', 'show', 'dev', wg]);
      expect((JSON.parse(routes.stdout) as Array<{ dst: string }>).map((r) => r.dst).sort(), c.kind).toEqual([
        '10.10.0.0/16',
        '10.110.0.0/16',
        '10.120.0.0/16',
        '10.20.0.0/16',
      ]);
      await hostile.remove(name);
      // The broker watch still works: the deletion arrives, the rejection goes away.
      await waitFor(`vm1 sees ${c.kind} deleted`, () => (rejectionOf(vm1Status(), name) ? undefined : true), {
        process: vm1.agent,
      });
    }
    const lost = await Promise.all(pings.map((p) => p.stop()));
    // Each rejection was logged once, not on every resync.
    for (let n = 1; n <= counter; n += 1) {
      const lines = vm1.agent.log().match(new RegExp(`rejected Endpoint evil-hijack-${n} `, 'g'));
      expect(lines, `evil-hijack-${n}`).toHaveLength(1);
    }
    expect(lost).toEqual([[], [], []]);
    expect(vm1Status()?.broker).toMatchObject({ synced: true, lastError: null });
    expect(vm1.agent.running).toBe(true);
  });
});

describe('honest status', () => {
  it('says error while health-check pings to a member are lost, and connected again after', async () => {
    const egw1 = cs.topo.host('egw1');
    const healthIp = vm1Status()?.connections.find((c) => c.clusterId === 'east')?.healthCheckIP ?? '';
    expect(healthIp).toMatch(/^10\.10\.\d+\.1$/);
    const table = 'moor-test-drop-health';
    await egw1.exec(['nft', '-f', '-'], {
      input: `table ip ${table} {\n chain input {\n  type filter hook input priority 0; policy accept;\n  ip daddr ${healthIp} icmp type echo-request drop\n }\n}\n`,
    });
    try {
      const show = async () =>
        JSON.parse(
          (
            await moor(cs.topo.host('vm1'), [
              'show',
              'connections',
              '-o',
              'json',
              '--state-dir',
              vm1.stateDir,
            ])
          ).stdout,
        ) as AgentStatus['connections'];
      // Every report the agent writes while the pings are lost (status.json is what `moor show
      // connections` renders): none may say connected once DNS has dropped the member.
      const seen: Array<{ status: string; lostPings: number }> = [];
      await waitFor(
        'east reported as error',
        () => {
          const east = vm1Status()?.connections.find((c) => c.clusterId === 'east');
          const last = seen.at(-1);
          if (east && (last?.status !== east.status || last.lostPings !== east.lostPings))
            seen.push({ status: east.status, lostPings: east.lostPings });
          return east?.status === 'error' && east.lostPings >= 5 ? true : undefined;
        },
        { process: vm1.agent, intervalMs: 50 },
      );
      expect(seen.filter((x) => x.lostPings >= 3 && x.status !== 'error')).toEqual([]);
      const failing = (await show()).find((c) => c.clusterId === 'east');
      expect(failing?.status).toBe('error');
      expect(failing?.statusMessage).toMatch(
        new RegExp(`pings to ${healthIp.replaceAll('.', '\\.')} lost in a row`),
      );
      expect((await show()).find((c) => c.clusterId === 'west')?.status).toBe('connected');
      const table = await moor(cs.topo.host('vm1'), ['show', 'connections', '--state-dir', vm1.stateDir]);
      expect(table.stdout).toMatch(/east\s+\S+\s+error\s/);
    } finally {
      await egw1.exec(['nft', 'delete', 'table', 'ip', table]);
    }
    await connectedBoth();
  });
});

describe('special-purpose addresses are refused on the command line', () => {
  const KINDS = ['0.0.0.0', '127.0.0.1', '169.254.1.1', '224.0.0.1', '255.255.255.255', '192.0.0.1'];

  it('moor join --address refuses each kind, and the addresses cables need, leaving nothing behind', async () => {
    const cases: Array<[string, string]> = [
      ...KINDS.map((a): [string, string] => [
        a,
        `--address ${a.replaceAll('.', '\\.')} is in the .* block .*, never a host's address`,
      ]),
      [BROKER, '--address 10\\.99\\.0\\.2 is the broker API server'],
      [VM1_GATEWAY, "--address 192\\.168\\.77\\.1 is this host's default gateway"],
      [NAMESERVER, "--address 10\\.99\\.0\\.53 is one of this host's nameservers"],
      [eastEndpointIp, `address ${eastEndpointIp.replaceAll('.', '\\.')} is already used by another member`],
    ];
    for (const [address, message] of cases) {
      const stateDir = join(run.dir, `join-${address}`);
      const r = await moor(cs.topo.host('vm1'), [
        'join',
        cs.adminBrokerInfo,
        '--clusterid',
        'special',
        '--address',
        address,
        '--state-dir',
        stateDir,
        '--interface',
        run.ifName('w'),
        '--no-start',
      ]);
      expect(r.code, address).not.toBe(0);
      const errors = r.stderr.split('\n').filter((l) => l.startsWith('moor:'));
      expect(errors, address).toEqual([expect.stringMatching(new RegExp(message))]);
      expect(r.stderr).not.toMatch(/\n\s+at /);
      expect(existsSync(stateDir)).toBe(false);
    }
    const core = cs.api.kubeConfig().makeApiClient(CoreV1Api);
    const ns = cs.broker.namespace;
    expect(
      (await core.listNamespacedServiceAccount({ namespace: ns })).items.map((s) => s.metadata?.name),
    ).not.toContain('cluster-special');
    expect(
      (await core.listNamespacedConfigMap({ namespace: ns })).items.filter(
        (c) => c.metadata?.labels?.['moor/cluster-id'] === 'special',
      ),
    ).toEqual([]);
    const clusters = (await cs.api
      .kubeConfig()
      .makeApiClient(CustomObjectsApi)
      .listNamespacedCustomObject({ ...group, namespace: ns, plural: 'clusters' })) as {
      items: Array<{ metadata: { name: string } }>;
    };
    expect(clusters.items.map((c) => c.metadata.name)).not.toContain('special');
  });

  it('moor gateway refuses special-purpose CIDRs and addresses before it starts', async () => {
    const east = cs.clusters.east;
    const base = [
      'gateway',
      '--broker-info',
      east.brokerInfo,
      '--clusterid',
      'east',
      '--kubeconfig',
      east.kubeconfig,
    ];
    const cases: Array<[string[], RegExp]> = [
      [['--cluster-cidr', '0.0.0.0/0'], /--cluster-cidr 0\.0\.0\.0\/0 covers the "this network" block/],
      [
        ['--cluster-cidr', '10.10.0.0/16', '--service-cidr', '127.0.0.0/8'],
        /--service-cidr 127\.0\.0\.0\/8 is inside the loopback block/,
      ],
      [
        ['--cluster-cidr', '10.10.0.0/16', '--private-ip', '169.254.1.1'],
        /--private-ip 169\.254\.1\.1 is in the link-local block/,
      ],
      [
        ['--cluster-cidr', '10.10.0.0/16', '--health-check-ip', '127.0.0.1'],
        /--health-check-ip 127\.0\.0\.1 is in the loopback block/,
      ],
      [
        ['--cluster-cidr', '10.10.0.0/16', '--vip', '224.0.0.1/24', '--vip-interface', 'to-east'],
        /--vip 224\.0\.0\.1 is in the multicast block/,
      ],
    ];
    for (const [args, message] of cases) {
      const r = await moor(cs.topo.host('egw2'), [
        ...base,
        ...args,
        '--state-dir',
        join(run.dir, 'refused-gw'),
      ]);
      expect(r.code, args.join(' ')).not.toBe(0);
      expect(
        r.stderr.split('\n').filter((l) => l.startsWith('moor:')),
        args.join(' '),
      ).toEqual([expect.stringMatching(message)]);
      expect(r.stderr).not.toMatch(/\n\s+at /);
    }
    // Nothing started: the running east gateway still holds the only east Endpoint.
    expect(gatewayStatus('egw1')?.registration.published).toBe(true);
    expect(existsSync(join(run.dir, 'refused-gw'))).toBe(false);
  });
});
