// A host joins a clusterset whose cluster "east" runs a Submariner-style WireGuard gateway (the
// spec-written oracle in test/harness/submariner-gateway.ts), from behind a NAT router.
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { CoreV1Api, CustomObjectsApi, RbacAuthorizationV1Api } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ApiServer, startApiServer, startEtcd } from '../harness/apiserver.ts';
import { type BrokerFixture, deployBroker, writeBrokerInfo } from '../harness/broker.ts';
import { serviceAccountWithRole } from '../harness/kube.ts';
import { moor, startMoor } from '../harness/moor.ts';
import { type RunningProcess, waitFor } from '../harness/process.ts';
import { TestRun } from '../harness/run.ts';
import { SubmarinerGateway } from '../harness/submariner-gateway.ts';
import { buildTopology, type Topology } from '../harness/topology.ts';

let run: TestRun;
let topo: Topology;
let api: ApiServer;
let broker: BrokerFixture;
let east: SubmarinerGateway;
let brokerInfo: string;
let stateDir: string;
let wgName: string;
let agent: RunningProcess;

const VM_ADDRESS = '100.70.0.10';
const POD = '10.10.1.2';

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
  east = new SubmarinerGateway({
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
  brokerInfo = writeBrokerInfo(run.dir, api.url, broker);
  stateDir = join(run.dir, 'vm1-state');
  wgName = run.ifName('w');
});

afterAll(async () => {
  await run?.cleanup();
});

const custom = () => api.kubeConfig().makeApiClient(CustomObjectsApi);
const listEndpoints = async () =>
  (
    (await custom().listNamespacedCustomObject({
      group: 'submariner.io',
      version: 'v1',
      namespace: broker.namespace,
      plural: 'endpoints',
    })) as {
      items: Array<{
        metadata: { name: string; labels: Record<string, string> };
        spec: Record<string, unknown>;
      }>;
    }
  ).items;

async function tcpEcho(serverHost: string, address: string, clientHost: string): Promise<string> {
  const server = topo
    .host(serverHost)
    .spawn(`echo-${address}`, [
      process.execPath,
      '-e',
      `require('net').createServer(s=>s.pipe(s)).listen(7777,'${address}',()=>console.log('up'))`,
    ]);
  await waitFor('echo server', () => (server.log().includes('up') ? true : undefined), { process: server });
  const r = await topo
    .host(clientHost)
    .exec([
      process.execPath,
      '-e',
      `const s=require('net').connect(7777,'${address}',()=>s.end('hello through the tunnel'));let d='';s.on('data',c=>d+=c);s.on('close',()=>console.log(d));s.setTimeout(5000,()=>{console.log('timeout');s.destroy()})`,
    ]);
  await server.stop();
  return r.stdout.trim();
}

describe('moor join, agent, leave', () => {
  it('joins: member credential, registration in Submariner format, secrets 0600', async () => {
    const r = await moor(topo.host('vm1'), [
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
      '--hostname',
      'vm1.example',
      '--no-start',
    ]);
    expect(r.stderr).toContain('joined the clusterset');
    expect(r.code).toBe(0);

    const sa = await api
      .kubeConfig()
      .makeApiClient(CoreV1Api)
      .readNamespacedServiceAccount({ name: 'cluster-vm1', namespace: broker.namespace });
    expect(sa.metadata?.name).toBe('cluster-vm1');
    const rb = await api.kubeConfig().makeApiClient(RbacAuthorizationV1Api).readNamespacedRoleBinding({
      name: 'cluster-vm1-submariner-k8s-broker-cluster',
      namespace: broker.namespace,
    });
    expect(rb.roleRef.name).toBe('submariner-k8s-broker-cluster');

    const mine = (await listEndpoints()).filter(
      (e) => e.metadata.labels['submariner-io/clusterID'] === 'vm1',
    );
    expect(mine).toHaveLength(1);
    expect(mine[0]?.metadata.name).toBe('vm1-submariner-cable-vm1-192-168-77-2');
    expect(mine[0]?.spec).toMatchObject({
      cluster_id: 'vm1',
      cable_name: 'submariner-cable-vm1-192-168-77-2',
      hostname: 'vm1.example',
      subnets: [`${VM_ADDRESS}/32`],
      private_ip: '192.168.77.2',
      public_ip: '10.99.3.2',
      nat_enabled: true,
      backend: 'wireguard',
      healthCheckIP: VM_ADDRESS,
      backend_config: { 'udp-port': '4500', publicKey: expect.stringMatching(/^[A-Za-z0-9+/]{43}=$/) },
    });
    const cluster = (await custom().getNamespacedCustomObject({
      group: 'submariner.io',
      version: 'v1',
      namespace: broker.namespace,
      plural: 'clusters',
      name: 'vm1',
    })) as { spec: Record<string, unknown>; metadata: { labels: Record<string, string> } };
    expect(cluster.spec).toEqual({
      cluster_id: 'vm1',
      color_codes: ['blue'],
      service_cidr: [],
      cluster_cidr: [`${VM_ADDRESS}/32`],
      global_cidr: [],
    });
    expect(cluster.metadata.labels['submariner-io/clusterID']).toBe('vm1');

    for (const f of ['state.json', 'wireguard.key'])
      expect(statSync(join(stateDir, f)).mode & 0o777).toBe(0o600);
    expect(statSync(stateDir).mode & 0o777).toBe(0o700);
    const state = (await topo.host('vm1').exec(['cat', join(stateDir, 'state.json')])).stdout;
    expect(state).not.toContain(broker.adminToken);
    expect(state).not.toContain(
      (await topo.host('vm1').exec(['cat', join(stateDir, 'wireguard.key')])).stdout.trim(),
    );
  });

  it('refuses a second host with the same cluster ID, creating nothing', async () => {
    const other = join(run.dir, 'other-state');
    const r = await moor(topo.host('vm1'), [
      'join',
      brokerInfo,
      '--clusterid',
      'vm1',
      '--state-dir',
      other,
      '--interface',
      run.ifName('w'),
      '--no-start',
    ]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/cluster ID "vm1" is already taken/);
    expect(
      r.stderr
        .trim()
        .split('\n')
        .filter((l) => l.startsWith('moor:')),
    ).toHaveLength(1);
  });

  it('builds the cable: pod and host reach each other by ICMP and TCP, both ways', async () => {
    agent = startMoor(topo.host('vm1'), 'agent', ['agent', '--state-dir', stateDir, '--resync', '5']);
    await waitFor('vm1 Endpoint seen by east', async () =>
      (await east.syncPeers(run)).includes('vm1') ? true : undefined,
    );
    const vm1 = topo.host('vm1');
    await waitFor('ping vm1 → pod', async () => ((await vm1.ping(POD, 1)) ? true : undefined), {
      timeoutMs: 30_000,
      process: agent,
    });
    expect(await topo.host('eastpod').ping(VM_ADDRESS)).toBe(true);
    expect(await tcpEcho('vm1', VM_ADDRESS, 'eastpod')).toBe('hello through the tunnel');
    expect(await tcpEcho('eastpod', POD, 'vm1')).toBe('hello through the tunnel');
    // Nothing leaks outside the tunnel: the NAT router has no route to the pod network.
    const route = await topo.host('nat1').exec(['ip', 'route', 'get', POD], { allowFail: true });
    expect(route.stdout).not.toContain(wgName);
  });

  it('reports the connection as connected with handshake and health-check RTT', async () => {
    const status = await waitFor(
      'connected status with RTT',
      async () => {
        const r = await moor(topo.host('vm1'), [
          'show',
          'connections',
          '-o',
          'json',
          '--state-dir',
          stateDir,
        ]);
        const conns = JSON.parse(r.stdout || '[]') as Array<{
          clusterId: string;
          status: string;
          rtt: unknown;
          lastHandshake: string | null;
        }>;
        const c = conns.find((x) => x.clusterId === 'east');
        return c && c.status === 'connected' && c.rtt ? c : undefined;
      },
      { timeoutMs: 20_000 },
    );
    expect(status.lastHandshake).not.toBeNull();
    const table = await moor(topo.host('vm1'), ['show', 'connections', '--state-dir', stateDir]);
    expect(table.stdout).toMatch(/east\s+10\.99\.1\.2:4500\s+connected/);
    const summary = await moor(topo.host('vm1'), ['status', '--state-dir', stateDir]);
    expect(summary.stdout).toContain('1 connected, 0 connecting, 0 error');
  });

  it('marks the connection as error when the cable is cut, and connected when it heals', async () => {
    const eastgw = topo.host('eastgw');
    const cut =
      'table inet moorcut {\n  chain in {\n    type filter hook input priority 0;\n    udp dport 4500 drop\n  }\n}\n';
    await eastgw.exec(['nft', '-f', '-'], { input: cut });
    const conn = async () => {
      const r = await moor(topo.host('vm1'), ['show', 'connections', '-o', 'json', '--state-dir', stateDir]);
      return (
        JSON.parse(r.stdout || '[]') as Array<{ clusterId: string; status: string; statusMessage: string }>
      ).find((c) => c.clusterId === 'east');
    };
    const down = await waitFor(
      'status error',
      async () => {
        const c = await conn();
        return c?.status === 'error' ? c : undefined;
      },
      { timeoutMs: 20_000 },
    );
    expect(down.statusMessage).toMatch(/pings to 10\.10\.1\.1 lost/);
    await eastgw.exec(['nft', 'delete', 'table', 'inet', 'moorcut']);
    await waitFor(
      'status connected again',
      async () => ((await conn())?.status === 'connected' ? true : undefined),
      {
        timeoutMs: 20_000,
      },
    );
  });

  it('follows a changed underlay address with a new Endpoint, removing the old one', async () => {
    const vm1 = topo.host('vm1');
    await vm1.exec(['ip', 'addr', 'add', '192.168.77.3/24', 'dev', 'to-nat1']);
    await vm1.exec(['ip', 'route', 'replace', 'default', 'via', '192.168.77.1', 'src', '192.168.77.3']);
    await waitFor(
      'Endpoint with the new cable name only',
      async () => {
        const names = (await listEndpoints())
          .filter((e) => e.metadata.labels['submariner-io/clusterID'] === 'vm1')
          .map((e) => e.metadata.name);
        return names.length === 1 && names[0] === 'vm1-submariner-cable-vm1-192-168-77-3' ? true : undefined;
      },
      { timeoutMs: 20_000 },
    );
    expect(await vm1.ping(POD)).toBe(true);
    expect(agent.log()).toMatch(/private IP changed from 192\.168\.77\.2 to 192\.168\.77\.3/);
  });

  it('follows a gateway restart with a new key, leaving nothing stale', async () => {
    const oldKey = east.wg.keys.publicKey;
    await east.restart(run);
    await east.syncPeers(run);
    const vm1 = topo.host('vm1');
    await waitFor('ping after gateway restart', async () => ((await vm1.ping(POD, 1)) ? true : undefined), {
      timeoutMs: 20_000,
      process: agent,
    });
    const peers = (await vm1.exec(['wg', 'show', wgName, 'peers'])).stdout;
    expect(peers).toContain(east.wg.keys.publicKey);
    expect(peers).not.toContain(oldKey);
  });

  it('rejects hostile Endpoints without disturbing the working cable', async () => {
    const c = custom();
    const group = { group: 'submariner.io', version: 'v1', namespace: broker.namespace };
    const evilKey = `${'E'.repeat(42)}E=`;
    await c.createNamespacedCustomObject({
      ...group,
      plural: 'clusters',
      body: {
        apiVersion: 'submariner.io/v1',
        kind: 'Cluster',
        metadata: { name: 'evil', labels: { 'submariner-io/clusterID': 'evil' } },
        spec: {
          cluster_id: 'evil',
          service_cidr: [],
          cluster_cidr: ['10.10.0.0/16', `${VM_ADDRESS}/32`],
          global_cidr: [],
        },
      },
    });
    for (const [name, subnets] of [
      ['evil-steal-pods', ['10.10.0.0/16']],
      ['evil-steal-host', [`${VM_ADDRESS}/32`]],
    ] as const) {
      await c.createNamespacedCustomObject({
        ...group,
        plural: 'endpoints',
        body: {
          apiVersion: 'submariner.io/v1',
          kind: 'Endpoint',
          metadata: { name, labels: { 'submariner-io/clusterID': 'evil' } },
          spec: {
            cluster_id: 'evil',
            cable_name: `submariner-cable-evil-${name}`,
            hostname: 'x',
            subnets,
            private_ip: '10.99.1.66',
            public_ip: '',
            nat_enabled: false,
            backend: 'wireguard',
            backend_config: { publicKey: evilKey },
          },
        },
      });
    }
    const status = await waitFor('rejections in status', async () => {
      const r = await moor(topo.host('vm1'), ['status', '-o', 'json', '--state-dir', stateDir]);
      const s = JSON.parse(r.stdout || '{}') as { rejected?: Array<{ clusterId: string; reason: string }> };
      return (s.rejected ?? []).filter((x) => x.clusterId === 'evil').length >= 1 ? s : undefined;
    });
    expect(JSON.stringify(status.rejected)).toMatch(/overlap/);
    expect(agent.log()).toMatch(/rejected Endpoint evil-/);
    const metrics = await topo
      .host('vm1')
      .exec([
        process.execPath,
        '-e',
        "fetch('http://127.0.0.1:9476/metrics').then(r=>r.text()).then(t=>process.stdout.write(t))",
      ]);
    expect(metrics.stdout).toMatch(/moor_rejected_endpoints\{reason="overlaps-[a-z]+"\} [12]/);
    expect(metrics.stdout).toContain('moor_connection_status{cluster_id="east",status="connected"} 1');
    const vm1 = topo.host('vm1');
    expect((await vm1.exec(['wg', 'show', wgName, 'peers'])).stdout).not.toContain(evilKey);
    expect(await vm1.ping(POD)).toBe(true);
    const routes = (await vm1.exec(['ip', '-j', 'route', 'show', 'dev', wgName])).stdout;
    expect(routes).toContain('10.10.0.0/16');
    await c.deleteNamespacedCustomObject({ ...group, plural: 'endpoints', name: 'evil-steal-pods' });
    await c.deleteNamespacedCustomObject({ ...group, plural: 'endpoints', name: 'evil-steal-host' });
    await c.deleteNamespacedCustomObject({ ...group, plural: 'clusters', name: 'evil' });
  });

  it('survives an agent restart without touching the tunnel', async () => {
    const vm1 = topo.host('vm1');
    const before = (await vm1.exec(['wg', 'show', wgName, 'dump'])).stdout;
    await agent.stop();
    expect(await vm1.ping(POD)).toBe(true); // tunnels stay up while the agent is down
    agent = startMoor(vm1, 'agent2', ['agent', '--state-dir', stateDir, '--resync', '5']);
    await waitFor('agent reporting again', async () => {
      const r = await moor(vm1, ['status', '-o', 'json', '--state-dir', stateDir]);
      return r.code === 0 && (JSON.parse(r.stdout) as { pid: number }).pid === agent.pid ? true : undefined;
    });
    expect(agent.log()).not.toMatch(/wireguard (set|remove)-peer|route (replace|delete)/);
    const after = (await vm1.exec(['wg', 'show', wgName, 'dump'])).stdout;
    expect(after.split('\n')[0]).toBe(before.split('\n')[0]); // same key and port: device untouched
  });

  it('leaves no interface, address, route, broker object or service account behind', async () => {
    const vm1 = topo.host('vm1');
    const r = await moor(vm1, ['leave', brokerInfo, '--state-dir', stateDir]);
    expect(r.code).toBe(0);
    expect(agent.running).toBe(false);
    expect((await vm1.exec(['ip', 'link', 'show', wgName], { allowFail: true })).code).not.toBe(0);
    expect((await vm1.exec(['ip', '-4', 'addr'])).stdout).not.toContain(VM_ADDRESS);
    expect((await vm1.exec(['ip', 'route'])).stdout).not.toMatch(/10\.10\.0\.0|10\.110\.0\.0/);
    expect((await listEndpoints()).map((e) => e.metadata.name).filter((n) => n.startsWith('vm1'))).toEqual(
      [],
    );
    const core = api.kubeConfig().makeApiClient(CoreV1Api);
    await expect(
      core.readNamespacedServiceAccount({ name: 'cluster-vm1', namespace: broker.namespace }),
    ).rejects.toMatchObject({ code: 404 });
    const secrets = await core.listNamespacedSecret({ namespace: broker.namespace });
    expect(secrets.items.map((s) => s.metadata?.name).filter((n) => n?.startsWith('cluster-vm1'))).toEqual(
      [],
    );
    const cms = await core.listNamespacedConfigMap({ namespace: broker.namespace });
    expect(cms.items.map((s) => s.metadata?.name).filter((n) => n?.startsWith('moor-address'))).toEqual([]);
    await expect(
      custom().getNamespacedCustomObject({
        group: 'submariner.io',
        version: 'v1',
        namespace: broker.namespace,
        plural: 'clusters',
        name: 'vm1',
      }),
    ).rejects.toMatchObject({ code: 404 });
    // Idempotent: again, nothing to do and no error.
    const again = await moor(vm1, ['leave', brokerInfo, '--clusterid', 'vm1', '--state-dir', stateDir]);
    expect(again.code).toBe(0);
  });
});
