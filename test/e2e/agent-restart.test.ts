// Restart and outage safety of the host agent (issue 8 item 1), on real parts: a host joined to a
// cluster whose gateway is the spec-written Submariner oracle, pods pinged at 100/s across the
// cable while the agent is restarted (SIGTERM, SIGKILL) and while the broker's API server process
// is stopped. Facts only: lost pings, the WireGuard interface's ifindex and its peers' rx/tx
// counters, DNS answers, the status document.
import { join } from 'node:path';
import { CustomObjectsApi } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ApiServer, startApiServer, startEtcd } from '../harness/apiserver.ts';
import { type BrokerFixture, deployBroker, writeBrokerInfo } from '../harness/broker.ts';
import { serviceAccountWithRole } from '../harness/kube.ts';
import { lighthouseExport } from '../harness/lighthouse.ts';
import { moor, startMoor } from '../harness/moor.ts';
import { type RunningProcess, waitFor } from '../harness/process.ts';
import { TestRun } from '../harness/run.ts';
import { SubmarinerGateway } from '../harness/submariner-gateway.ts';
import { buildTopology, type Topology } from '../harness/topology.ts';

let run: TestRun;
let topo: Topology;
let api: ApiServer;
let broker: BrokerFixture;
let stateDir: string;
let wgName: string;
let agent: RunningProcess;
let generation = 0;

const VM_ADDRESS = '100.70.0.10';
const POD = '10.10.1.2';
const KNOWN = 'nginx.web.svc.clusterset.local';

beforeAll(async () => {
  run = TestRun.start();
  topo = await buildTopology(run, {
    hosts: {
      broker: {},
      wan: { forwarding: true },
      eastgw: { forwarding: true },
      eastpod: {},
      nat1: { forwarding: true },
      vm1: {},
    },
    links: [
      { a: { host: 'broker', address: '10.99.0.2/24' }, b: { host: 'wan', address: '10.99.0.1/24' } },
      { a: { host: 'eastgw', address: '10.99.1.2/24' }, b: { host: 'wan', address: '10.99.1.1/24' } },
      { a: { host: 'eastpod', address: `${POD}/24` }, b: { host: 'eastgw', address: '10.10.1.1/24' } },
      {
        a: { host: 'nat1', address: '10.99.3.2/24', ifname: 'wan0' },
        b: { host: 'wan', address: '10.99.3.1/24' },
      },
      { a: { host: 'vm1', address: '192.168.77.2/24' }, b: { host: 'nat1', address: '192.168.77.1/24' } },
    ],
    routes: [
      { host: 'broker', to: 'default', via: '10.99.0.1' },
      { host: 'eastgw', to: 'default', via: '10.99.1.1' },
      { host: 'eastpod', to: 'default', via: '10.10.1.1' },
      { host: 'nat1', to: 'default', via: '10.99.3.1' },
      { host: 'vm1', to: 'default', via: '192.168.77.1' },
    ],
    nat: [{ host: 'nat1', source: '192.168.77.0/24', outIfname: 'wan0' }],
  });
  const etcd = await startEtcd(run, topo.host('broker'));
  api = await startApiServer(run, { name: 'broker', host: topo.host('broker'), etcd, address: '10.99.0.2' });
  broker = await deployBroker(api.kubeConfig());
  const eastToken = await serviceAccountWithRole(
    api.kubeConfig(),
    broker.namespace,
    'cluster-east',
    'submariner-k8s-broker-cluster',
  );
  const east = new SubmarinerGateway({
    clusterId: 'east',
    host: topo.host('eastgw'),
    privateIp: '10.99.1.2',
    clusterCidr: '10.10.0.0/16',
    serviceCidr: '10.110.0.0/16',
    cniAddress: '10.10.1.1',
    kubeConfig: api.kubeConfig(eastToken),
    namespace: broker.namespace,
    psk: broker.psk,
  });
  await east.start(run);
  await lighthouseExport(
    api.kubeConfig(),
    broker.namespace,
    'east',
    { name: 'nginx', namespace: 'web' },
    { address: '10.110.0.10' },
  );
  const brokerInfo = writeBrokerInfo(run.dir, api.url, broker);
  stateDir = join(run.dir, 'vm1-state');
  wgName = run.ifName('w');
  const joined = await moor(topo.host('vm1'), [
    'join',
    brokerInfo,
    '--clusterid',
    'vm1',
    '--address',
    VM_ADDRESS,
    '--public-ip',
    '10.99.3.2',
    '--interface',
    wgName,
    '--state-dir',
    stateDir,
    '--no-start',
  ]);
  if (joined.code !== 0) throw new Error(`moor join failed:\n${joined.stderr}`);
  agent = startAgent();
  await waitFor('vm1 Endpoint seen by east', async () =>
    (await east.syncPeers(run)).includes('vm1') ? true : undefined,
  );
  await waitFor(
    'ping through the cable',
    async () => ((await topo.host('vm1').ping(POD, 1)) ? true : undefined),
    { timeoutMs: 60_000 },
  );
  try {
    await waitForDns(KNOWN, '10.110.0.10');
  } catch (err) {
    throw new Error(`${(err as Error).message}\nstatus: ${JSON.stringify(await status())}`);
  }
});

afterAll(async () => {
  await run?.cleanup();
});

function startAgent(): RunningProcess {
  generation += 1;
  return startMoor(topo.host('vm1'), `agent${generation}`, [
    'agent',
    '--state-dir',
    stateDir,
    '--resync',
    '5',
  ]);
}

interface StatusDoc {
  pid: number;
  broker: { synced: boolean; serving?: string; snapshotSavedAt?: string | null; lastError: string | null };
  registration: { published: boolean; lastError: string | null };
  connections: Array<{ clusterId: string; status: string }>;
  dns?: { ready: boolean; fromSnapshot?: string | null };
}

async function status(): Promise<StatusDoc | undefined> {
  const r = await moor(topo.host('vm1'), ['status', '-o', 'json', '--state-dir', stateDir]);
  return r.code === 0 ? (JSON.parse(r.stdout) as StatusDoc) : undefined;
}

async function dig(name: string): Promise<string[]> {
  const r = await topo
    .host('vm1')
    .exec(['dig', `@${VM_ADDRESS}`, name, 'A', '+short', '+tries=1', '+time=2'], { allowFail: true });
  return r.stdout.trim().split('\n').filter(Boolean).sort();
}

async function waitForDns(name: string, address: string | null, timeoutMs = 60_000): Promise<void> {
  await waitFor(
    `${name} → ${address ?? 'nothing'}`,
    async () => {
      const got = await dig(name);
      return (address === null ? got.length === 0 : got.includes(address)) ? true : undefined;
    },
    { timeoutMs, intervalMs: 250, process: agent },
  );
}

/** The WireGuard interface as the kernel sees it: its ifindex and each peer's counters. */
async function tunnelFacts(): Promise<{ ifindex: number; peers: Map<string, { rx: number; tx: number }> }> {
  const vm1 = topo.host('vm1');
  const link = JSON.parse((await vm1.exec(['ip', '-j', 'link', 'show', 'dev', wgName])).stdout) as Array<{
    ifindex: number;
  }>;
  const dump = (await vm1.exec(['wg', 'show', wgName, 'dump'])).stdout.trim().split('\n').slice(1);
  const peers = new Map(
    dump.map((line) => {
      const f = line.split('\t');
      return [f[0] ?? '', { rx: Number(f[5]), tx: Number(f[6]) }] as const;
    }),
  );
  return { ifindex: link[0]?.ifindex ?? -1, peers };
}

/** Ping the pod at 100/s while `during` runs, then 2 s more; returns transmitted and received. */
async function pingWhile(during: () => Promise<void>): Promise<{ sent: number; received: number }> {
  const ping = topo.host('vm1').spawn(`ping-${generation}`, ['ping', '-n', '-i', '0.01', '-W', '1', POD]);
  await waitFor('first ping replies', () => (/bytes from/.test(ping.log()) ? true : undefined), {
    process: ping,
  });
  await during();
  await new Promise((r) => setTimeout(r, 2000));
  ping.signal('SIGINT');
  await ping.waitExit();
  // Count by sequence number up to the last reply: the echo in flight when SIGINT arrives is
  // never answered, so ping's own summary can show one loss that the tunnel did not cause.
  const seqs = new Set([...ping.log().matchAll(/bytes from [^\n]*icmp_seq=(\d+)/g)].map((m) => Number(m[1])));
  if (seqs.size === 0) throw new Error(`no ping replies:\n${ping.log()}`);
  const sent = Math.max(...seqs);
  console.log(`pings at 100/s across the restart: ${sent} sent, ${seqs.size} received`);
  return { sent, received: seqs.size };
}

async function newAgentReporting(extra: (s: StatusDoc) => boolean = () => true): Promise<StatusDoc> {
  return waitFor(
    'the new agent reporting',
    async () => {
      const s = await status();
      return s && s.pid === agent.pid && extra(s) ? s : undefined;
    },
    { process: agent, timeoutMs: 60_000 },
  );
}

function expectTunnelUntouched(
  before: Awaited<ReturnType<typeof tunnelFacts>>,
  after: Awaited<ReturnType<typeof tunnelFacts>>,
): void {
  expect(after.ifindex).toBe(before.ifindex);
  expect([...after.peers.keys()].sort()).toEqual([...before.peers.keys()].sort());
  for (const [key, b] of before.peers) {
    const a = after.peers.get(key);
    // Counters only grow on the same peer of the same device: nothing was re-created.
    expect(a?.rx).toBeGreaterThan(b.rx);
    expect(a?.tx).toBeGreaterThan(b.tx);
  }
}

describe('agent restarts disturb nothing', () => {
  it.each([
    ['SIGTERM', () => agent.stop()],
    ['SIGKILL', () => agent.kill()],
  ])('a %s restart loses no ping and keeps the device and its peers', async (_signal, stop) => {
    const before = await tunnelFacts();
    const pings = await pingWhile(async () => {
      await stop();
      agent = startAgent();
      await newAgentReporting((s) => s.broker.synced && s.connections.every((c) => c.status === 'connected'));
    });
    expect(pings.sent).toBeGreaterThan(100);
    expect(pings.received).toBe(pings.sent);
    expectTunnelUntouched(before, await tunnelFacts());
    expect(await dig(KNOWN)).toEqual(['10.110.0.10']);
  });
});

describe('a restart with the broker down', () => {
  it('keeps every tunnel and answers known names from the snapshot', async () => {
    await waitFor('the member snapshot on disk', async () =>
      (
        await topo
          .host('vm1')
          .exec(['test', '-s', join(stateDir, 'snapshot-members.json')], { allowFail: true })
      ).code === 0
        ? true
        : undefined,
    );
    const before = await tunnelFacts();
    await api.stopApiServer();
    const pings = await pingWhile(async () => {
      await agent.stop();
      agent = startAgent();
      const s = await newAgentReporting((x) => x.broker.serving === 'snapshot' && Boolean(x.dns?.ready));
      expect(s.broker.synced).toBe(false);
      expect(s.broker.snapshotSavedAt).toBeTruthy();
      expect(s.dns?.fromSnapshot).toBeTruthy();
      await waitForDns(KNOWN, '10.110.0.10', 30_000);
    });
    expect(pings.received).toBe(pings.sent);
    expectTunnelUntouched(before, await tunnelFacts());
    // The outage is said once, not once per retry: over 12 s of refused lists, watches,
    // publishes and exports (four reflectors backing off, resyncs every 5 s) the log barely grows.
    const linesBefore = agent.log().trimEnd().split('\n').length;
    await new Promise((r) => setTimeout(r, 12_000));
    const added = agent.log().trimEnd().split('\n').slice(linesBefore);
    expect(added.length, added.join('\n')).toBeLessThanOrEqual(3);
    const text = await moor(topo.host('vm1'), ['status', '--state-dir', stateDir]);
    expect(text.stdout).toMatch(/broker: .*UNREACHABLE.*SERVING FROM SNAPSHOT saved \d+[smh] ago/);
    expect(text.stdout).not.toContain('NOT PUBLISHED');
  });

  it('converges on the changes made while it could not see the broker, once it can', async () => {
    const vm1 = topo.host('vm1');
    // The API server comes back, but this host still cannot reach it (its traffic is dropped),
    // and the clusterset changes meanwhile: one service is withdrawn, another exported.
    const table = `moor-test-outage-${run.id}`;
    await vm1.exec(['nft', 'add', 'table', 'inet', table]);
    run.defer(async () => {
      await vm1.exec(['nft', 'delete', 'table', 'inet', table], { allowFail: true });
    });
    await vm1.exec(['nft', 'add', 'chain', 'inet', table, 'out', '{ type filter hook output priority 0 ; }']);
    await vm1.exec([
      'nft',
      'add',
      'rule',
      'inet',
      table,
      'out',
      'ip',
      'daddr',
      '10.99.0.2',
      'tcp',
      'dport',
      '6443',
      'drop',
    ]);
    await api.restartApiServer();
    await api.kubeConfig().makeApiClient(CustomObjectsApi).deleteNamespacedCustomObject({
      group: 'multicluster.x-k8s.io',
      version: 'v1alpha1',
      namespace: broker.namespace,
      plural: 'serviceimports',
      name: 'nginx-web',
    });
    await lighthouseExport(
      api.kubeConfig(),
      broker.namespace,
      'east',
      { name: 'db', namespace: 'data' },
      { address: '10.110.0.20' },
    );
    // Still cut off: the old answers stand, the tunnel works.
    expect(await dig(KNOWN)).toEqual(['10.110.0.10']);
    expect(await vm1.ping(POD, 1)).toBe(true);
    await vm1.exec(['nft', 'delete', 'table', 'inet', table]);
    // The reflectors retry within their 30 s backoff cap, list, and everything converges.
    await waitForDns('db.data.svc.clusterset.local', '10.110.0.20', 90_000);
    await waitForDns(KNOWN, null, 30_000);
    const s = await newAgentReporting((x) => x.broker.synced && x.broker.serving === 'broker');
    expect(s.registration).toMatchObject({ published: true, lastError: null });
    expect(await vm1.ping(POD, 1)).toBe(true);
  });
});
