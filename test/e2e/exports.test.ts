// A joined host exports its own services to the clusterset (spec §4.4): the objects the REAL API
// server accepts against the reference CRDs and its member RBAC follow every Lighthouse format
// rule of spec §4.2/§4.3, merge with another cluster's export of the same service (written here
// as a Lighthouse agent writes it), refuse a type conflict, and leave nothing behind on unexport.
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { CustomObjectsApi } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ApiServer, startApiServer, startEtcd } from '../harness/apiserver.ts';
import { type BrokerFixture, deployBroker, writeBrokerInfo } from '../harness/broker.ts';
import { moor, startMoor } from '../harness/moor.ts';
import { type RunningProcess, waitFor } from '../harness/process.ts';
import { TestRun } from '../harness/run.ts';
import { buildTopology, type Topology } from '../harness/topology.ts';

let run: TestRun;
let topo: Topology;
let api: ApiServer;
let broker: BrokerFixture;
let stateDir: string;

const VM_ADDRESS = '100.70.0.10';
const EAST_ADDRESS = '10.110.0.9';
const T_EAST = '1700000000000000000';

type Obj = {
  metadata: {
    name: string;
    resourceVersion: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    managedFields?: Array<{ subresource?: string; operation?: string }>;
  };
  [field: string]: unknown;
};

beforeAll(async () => {
  run = TestRun.start();
  topo = await buildTopology(run, {
    hosts: { broker: {}, vm1: {} },
    links: [{ a: { host: 'broker', address: '10.99.0.2/24' }, b: { host: 'vm1', address: '10.99.0.3/24' } }],
  });
  const etcd = await startEtcd(run, topo.host('broker'));
  api = await startApiServer(run, { name: 'broker', host: topo.host('broker'), etcd, address: '10.99.0.2' });
  broker = await deployBroker(api.kubeConfig());
  stateDir = join(run.dir, 'vm1-state');
  const joined = await moor(topo.host('vm1'), [
    'join',
    writeBrokerInfo(run.dir, api.url, broker),
    '--clusterid',
    'vm1',
    '--address',
    VM_ADDRESS,
    '--private-ip',
    '10.99.0.3',
    '--interface',
    run.ifName('w'),
    '--hostname',
    'vm1.example',
    '--state-dir',
    stateDir,
    '--no-start',
  ]);
  if (joined.code !== 0) throw new Error(`join failed: ${joined.stderr}`);
});

afterAll(async () => {
  await run?.cleanup();
});

// Raw JSON as the server returns it (CustomObjectsApi also serves built-in groups untyped).
const custom = () => api.kubeConfig().makeApiClient(CustomObjectsApi);
const mcs = () => ({ group: 'multicluster.x-k8s.io', version: 'v1alpha1', namespace: broker.namespace });
const discovery = () => ({ group: 'discovery.k8s.io', version: 'v1', namespace: broker.namespace });
const getImport = async (name: string) =>
  (await custom().getNamespacedCustomObject({ ...mcs(), plural: 'serviceimports', name })) as Obj;
const listImports = async () =>
  ((await custom().listNamespacedCustomObject({ ...mcs(), plural: 'serviceimports' })) as { items: Obj[] })
    .items;
const listSlices = async (labelSelector?: string) =>
  (
    (await custom().listNamespacedCustomObject({
      ...discovery(),
      plural: 'endpointslices',
      ...(labelSelector ? { labelSelector } : {}),
    })) as { items: Obj[] }
  ).items;
const ourSlice = async (svc: string) => {
  const slices = await listSlices(
    `multicluster.kubernetes.io/source-cluster=vm1,multicluster.kubernetes.io/service-name=${svc}`,
  );
  expect(slices).toHaveLength(1);
  return slices[0] as Obj;
};
const vm1 = (args: string[]) => moor(topo.host('vm1'), [...args, '--state-dir', stateDir]);
const storedExports = () =>
  JSON.parse(readFileSync(join(stateDir, 'exports.json'), 'utf8')) as Array<{
    name: string;
    exportedAt: string;
  }>;

async function show(subject: 'exports' | 'services', output: 'json' | 'table') {
  return vm1(['show', subject, '-o', output]);
}

/** What a Lighthouse agent in cluster "east" writes to export vms/<svc> (spec §4.1–4.3), as admin. */
async function eastExports(
  svc: string,
  type: 'ClusterSetIP' | 'Headless',
  port: { name: string; port: number },
) {
  const c = custom();
  await c.createNamespacedCustomObject({
    ...mcs(),
    plural: 'serviceimports',
    body: {
      apiVersion: 'multicluster.x-k8s.io/v1alpha1',
      kind: 'ServiceImport',
      metadata: {
        name: `${svc}-vms`,
        annotations: {
          'multicluster.kubernetes.io/service-name': svc,
          'lighthouse.submariner.io/sourceNamespace': 'vms',
          'timestamp.submariner.io/east': T_EAST,
          ...(type === 'ClusterSetIP' ? { 'lighthouse.submariner.io/use-clusterset-ip': 'false' } : {}),
        },
      },
      spec: {
        type,
        ports: type === 'ClusterSetIP' ? [{ name: port.name, protocol: 'TCP', port: port.port }] : [],
        sessionAffinity: 'None',
      },
    },
  });
  const created = await getImport(`${svc}-vms`);
  await c.replaceNamespacedCustomObjectStatus({
    ...mcs(),
    plural: 'serviceimports',
    name: `${svc}-vms`,
    body: { ...created, status: { clusters: [{ cluster: 'east' }] } },
  });
  await c.createNamespacedCustomObject({
    ...discovery(),
    plural: 'endpointslices',
    body: {
      apiVersion: 'discovery.k8s.io/v1',
      kind: 'EndpointSlice',
      metadata: {
        name: `${svc}-x7k2p`,
        labels: {
          'endpointslice.kubernetes.io/managed-by': 'lighthouse-agent.submariner.io',
          'lighthouse.submariner.io/sourceNamespace': 'vms',
          'multicluster.kubernetes.io/source-cluster': 'east',
          'multicluster.kubernetes.io/service-name': svc,
          'lighthouse.submariner.io/is-headless': String(type === 'Headless'),
          ...(type === 'Headless' ? { 'lighthouse.submariner.io/source-name': `${svc}-abcde` } : {}),
          'submariner-io/clusterID': 'east',
          'submariner-io/originatingNamespace': 'vms',
        },
        annotations: {
          'lighthouse.submariner.io/publish-not-ready-addresses': 'false',
          'lighthouse.submariner.io/globalnet-enabled': 'false',
        },
      },
      addressType: 'IPv4',
      endpoints: [{ addresses: [EAST_ADDRESS], conditions: { ready: true } }],
      ports: [{ name: port.name, protocol: 'TCP', port: port.port }],
    },
  });
}

describe('moor export service (spec §4.4) on a real API server', () => {
  let si: Obj;
  let slice: Obj;

  it('exports vms/db with the member credential; prints it; stores it 0600', async () => {
    const r = await vm1(['export', 'service', 'db', '--namespace', 'vms', '--port', '5432/TCP']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('exported vms/db from cluster vm1 as ClusterSetIP');
    expect(r.stdout).toContain('db.vms.svc.clusterset.local');
    expect(r.stdout).toMatch(/health: +tcp 127\.0\.0\.1:5432: NOT ready/);
    expect(statSync(join(stateDir, 'exports.json')).mode & 0o777).toBe(0o600);
    si = await getImport('db-vms');
    slice = await ourSlice('db');
  });

  // §4.2: the aggregated ServiceImport.
  it('§4.2 names the import <svc>-<ns> in the broker namespace', () => {
    expect(si.metadata.name).toBe('db-vms');
    expect(si.metadata).toMatchObject({ namespace: broker.namespace });
  });

  it('§4.2 puts no submariner-io/clusterID label (nor any label) on the import', () => {
    expect(si.metadata.labels?.['submariner-io/clusterID']).toBeUndefined();
    expect(si.metadata.labels ?? {}).toEqual({});
  });

  it('§4.2 carries service name and source namespace as annotations', () => {
    expect(si.metadata.annotations).toMatchObject({
      'multicluster.kubernetes.io/service-name': 'db',
      'lighthouse.submariner.io/sourceNamespace': 'vms',
    });
  });

  it('§4.2 timestamp annotation: key timestamp.submariner.io/<sanitised id>, Unix ns of the export', () => {
    const stamps = Object.entries(si.metadata.annotations ?? {}).filter(([k]) => k.startsWith('timestamp.'));
    expect(stamps.map(([k]) => k)).toEqual(['timestamp.submariner.io/vm1']);
    const value = stamps[0]?.[1] ?? '';
    expect(value).toMatch(/^[0-9]{19}$/);
    expect(value).toBe(storedExports().find((e) => e.name === 'db')?.exportedAt);
    const ageNs = BigInt(Date.now()) * 1_000_000n - BigInt(value);
    expect(ageNs >= 0n && ageNs < 10n * 60n * 1_000_000_000n).toBe(true);
  });

  it('§4.2 ClusterSetIP: use-clusterset-ip "false", no clusterset IP, session affinity None', () => {
    expect(si.metadata.annotations?.['lighthouse.submariner.io/use-clusterset-ip']).toBe('false');
    expect(si.metadata.annotations).not.toHaveProperty('lighthouse.submariner.io/clusterset-ip-allocated-by');
    expect(si.spec).toEqual({
      type: 'ClusterSetIP',
      ports: [{ protocol: 'TCP', port: 5432 }],
      sessionAffinity: 'None',
    });
  });

  it('§4.2 status.clusters lists us, written through the status subresource', async () => {
    expect(si.status).toEqual({ clusters: [{ cluster: 'vm1' }] });
    const viaSubresource = (await custom().getNamespacedCustomObjectStatus({
      ...mcs(),
      plural: 'serviceimports',
      name: 'db-vms',
    })) as Obj;
    expect(viaSubresource.status).toEqual({ clusters: [{ cluster: 'vm1' }] });
    expect(si.metadata.managedFields).toContainEqual(
      expect.objectContaining({ operation: 'Update', subresource: 'status' }),
    );
  });

  // §4.3: our Lighthouse EndpointSlice, written straight to the broker.
  it('§4.3 slice labels: the Lighthouse five plus the two admiral adds on the broker', () => {
    expect(slice.metadata.labels).toEqual({
      'endpointslice.kubernetes.io/managed-by': 'lighthouse-agent.submariner.io',
      'lighthouse.submariner.io/sourceNamespace': 'vms',
      'multicluster.kubernetes.io/source-cluster': 'vm1',
      'multicluster.kubernetes.io/service-name': 'db',
      'lighthouse.submariner.io/is-headless': 'false',
      'submariner-io/clusterID': 'vm1',
      'submariner-io/originatingNamespace': 'vms',
    });
  });

  it('§4.3 slice annotations: publish-not-ready and globalnet both "false"', () => {
    expect(slice.metadata.annotations).toEqual({
      'lighthouse.submariner.io/publish-not-ready-addresses': 'false',
      'lighthouse.submariner.io/globalnet-enabled': 'false',
    });
  });

  it('§4.3 slice name is not read as legacy: it does not end in -<clusterId>', () => {
    expect(slice.metadata.name.endsWith('-vm1')).toBe(false);
    expect(slice.metadata.name).toMatch(/^db-vms-[0-9a-f]+$/);
  });

  it('§4.3 addressType IPv4 and exactly one endpoint: the host clusterset address', () => {
    expect(slice.addressType).toBe('IPv4');
    const endpoints = slice.endpoints as Array<{ addresses: string[] }>;
    expect(endpoints).toHaveLength(1);
    expect(endpoints[0]?.addresses).toEqual([VM_ADDRESS]);
  });

  it('§4.3 every port field is present on the slice (CoreDNS dereferences name, protocol, port)', () => {
    expect(slice.ports).toEqual([{ name: '', protocol: 'TCP', port: 5432 }]);
    for (const port of slice.ports as object[])
      expect(Object.keys(port).sort()).toEqual(['name', 'port', 'protocol']);
  });

  it('§4.4 ready reflects the local check: nothing listens on 127.0.0.1:5432 yet', () => {
    expect(slice.endpoints).toEqual([{ addresses: [VM_ADDRESS], conditions: { ready: false } }]);
  });

  it('publishing the same export again writes nothing', async () => {
    const r = await vm1(['export', 'service', 'db', '--namespace', 'vms', '--port', '5432/TCP']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('ServiceImport db-vms unchanged, EndpointSlice unchanged');
    expect((await getImport('db-vms')).metadata.resourceVersion).toBe(si.metadata.resourceVersion);
    expect((await ourSlice('db')).metadata.resourceVersion).toBe(slice.metadata.resourceVersion);
  });

  it('ready follows a real TCP listener in the host namespace (moor agent health loop, 5 s interval)', async () => {
    const driver = startMoor(topo.host('vm1'), 'agent-exports', [
      'agent',
      '--state-dir',
      stateDir,
      '--resync',
      '5',
    ]);
    await waitFor('agent running', () => (driver.log().includes('agent running') ? true : undefined), {
      process: driver,
    });
    const ready = async () =>
      ((await ourSlice('db')).endpoints as Array<{ conditions: { ready: boolean } }>)[0]?.conditions.ready;
    let listener: RunningProcess | undefined = topo
      .host('vm1')
      .spawn('pg', [
        process.execPath,
        '-e',
        "require('net').createServer(s=>s.end()).listen(5432,'127.0.0.1',()=>console.log('up'))",
      ]);
    await waitFor('listener up', () => (listener?.log().includes('up') ? true : undefined), {
      process: listener,
    });
    await waitFor('slice ready', async () => ((await ready()) === true ? true : undefined), {
      timeoutMs: 10_000,
      process: driver,
    });
    await listener.stop();
    listener = undefined;
    await waitFor('slice not ready', async () => ((await ready()) === false ? true : undefined), {
      timeoutMs: 10_000,
      process: driver,
    });
    // The agent logs the change after the broker confirmed the write, so the log may trail the
    // slice we just read by a moment on a busy machine.
    await waitFor(
      'not-ready logged',
      () => (driver.log().includes('export vms/db: NOT ready') ? true : undefined),
      {
        timeoutMs: 5_000,
        process: driver,
      },
    );
    expect(driver.log()).toMatch(/clusterset DNS listening on 100\.70\./);
    // The agent keeps running: `moor show services` below reads its connection states.
  });
});

describe('merging with other clusters', () => {
  it('merges into the import a Lighthouse agent of "east" created: timestamps, status, ports', async () => {
    await eastExports('web', 'ClusterSetIP', { name: 'http', port: 80 });
    const r = await vm1([
      'export',
      'service',
      'web',
      '--namespace',
      'vms',
      '--port',
      'http-alt:8080/TCP',
      '--health',
      'none',
    ]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const si = await getImport('web-vms');
    expect(si.metadata.annotations).toEqual({
      'multicluster.kubernetes.io/service-name': 'web',
      'lighthouse.submariner.io/sourceNamespace': 'vms',
      'lighthouse.submariner.io/use-clusterset-ip': 'false',
      'timestamp.submariner.io/east': T_EAST,
      'timestamp.submariner.io/vm1': storedExports().find((e) => e.name === 'web')?.exportedAt,
    });
    expect(si.status).toEqual({ clusters: [{ cluster: 'east' }, { cluster: 'vm1' }] });
    // Union by name, oldest exporter (east) first, recomputed from both broker slices.
    expect((si.spec as { ports: unknown }).ports).toEqual([
      { name: 'http', protocol: 'TCP', port: 80 },
      { name: 'http-alt', protocol: 'TCP', port: 8080 },
    ]);
    expect((await ourSlice('web')).endpoints).toEqual([
      { addresses: [VM_ADDRESS], conditions: { ready: true } },
    ]);
  });

  it('refuses a type conflict with one clear line and creates nothing', async () => {
    await eastExports('cache', 'Headless', { name: 'redis', port: 6379 });
    const before = await getImport('cache-vms');
    const r = await vm1(['export', 'service', 'cache', '--namespace', 'vms', '--port', 'redis:6379/TCP']);
    expect(r.code).not.toBe(0);
    const lines = r.stderr.trim().split('\n');
    expect(lines.filter((l) => l.startsWith('moor:'))).toEqual([
      'moor: cannot export vms/cache: the local service type ("ClusterSetIP") does not match the type ("Headless") of the existing exported service',
    ]);
    expect(r.stderr).toMatch(/fix: other clusters export it as Headless: export it with --per-host-names/);
    expect((await getImport('cache-vms')).metadata.resourceVersion).toBe(before.metadata.resourceVersion);
    expect(
      await listSlices(
        'multicluster.kubernetes.io/source-cluster=vm1,multicluster.kubernetes.io/service-name=cache',
      ),
    ).toEqual([]);
    expect(storedExports().map((e) => e.name)).not.toContain('cache');
  });

  it('joins the headless export with --per-host-names: one endpoint named after this host', async () => {
    const r = await vm1([
      'export',
      'service',
      'cache',
      '--namespace',
      'vms',
      '--port',
      'redis:6379/TCP',
      '--per-host-names',
      '--health',
      'none',
    ]);
    expect(r.stderr).toBe('');
    expect(r.stdout).toContain('vm1-example.vm1.cache.vms.svc.clusterset.local');
    const si = await getImport('cache-vms');
    expect(si.spec).toMatchObject({ type: 'Headless', ports: [] });
    expect(si.status).toEqual({ clusters: [{ cluster: 'east' }, { cluster: 'vm1' }] });
    const slice = await ourSlice('cache');
    expect(slice.metadata.labels).toMatchObject({
      'lighthouse.submariner.io/is-headless': 'true',
      'lighthouse.submariner.io/source-name': 'cache',
    });
    expect(slice.endpoints).toEqual([
      { addresses: [VM_ADDRESS], hostname: 'vm1-example', conditions: { ready: true } },
    ]);
  });

  it("moor show services lists the other cluster's exports with address, readiness and reachability", async () => {
    const r = await show('services', 'json');
    expect(r.code).toBe(0);
    const services = JSON.parse(r.stdout) as Array<{ name: string; type: string; clusters: object[] }>;
    expect(services.map((s) => s.name)).toEqual(['cache', 'db', 'web']);
    expect(services.find((s) => s.name === 'web')).toEqual({
      name: 'web',
      namespace: 'vms',
      type: 'ClusterSetIP',
      ports: [
        { name: 'http', protocol: 'TCP', port: 80 },
        { name: 'http-alt', protocol: 'TCP', port: 8080 },
      ],
      clusters: [
        // The agent runs, and east has no gateway here, so no cable: not reachable. Our own cluster always is.
        { clusterId: 'east', addresses: [EAST_ADDRESS], ready: true, reachable: false, self: false },
        { clusterId: 'vm1', addresses: [VM_ADDRESS], ready: true, reachable: true, self: true },
      ],
    });
    const table = await show('services', 'table');
    expect(table.stdout).toMatch(
      /web\s+vms\s+ClusterSetIP\s+http:80\/TCP,http-alt:8080\/TCP\s+east\s+10\.110\.0\.9\s+yes\s+no/,
    );
  });

  it('moor show exports lists ours with what the broker holds', async () => {
    const r = await show('exports', 'json');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual([
      expect.objectContaining({ name: 'cache', type: 'Headless', broker: { listed: true, ready: true } }),
      expect.objectContaining({
        name: 'db',
        ports: '5432/TCP',
        health: 'tcp:5432',
        broker: { listed: true, ready: false },
      }),
      expect.objectContaining({ name: 'web', health: 'none', broker: { listed: true, ready: true } }),
    ]);
  });
});

describe('moor unexport service', () => {
  it('leaves the import to east, minus our entry, timestamp and ports', async () => {
    const r = await vm1(['unexport', 'service', 'web', '--namespace', 'vms']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('other clusters still export it');
    const si = await getImport('web-vms');
    expect(si.status).toEqual({ clusters: [{ cluster: 'east' }] });
    expect(Object.keys(si.metadata.annotations ?? {})).not.toContain('timestamp.submariner.io/vm1');
    expect((si.spec as { ports: unknown }).ports).toEqual([{ name: 'http', protocol: 'TCP', port: 80 }]);
  });

  it('deletes the import when we were the last exporter', async () => {
    const r = await vm1(['unexport', 'service', 'db', '--namespace', 'vms']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('deleted ServiceImport db-vms');
    await expect(getImport('db-vms')).rejects.toMatchObject({ code: 404 });
  });

  it('leaves nothing of ours behind, and a second run is harmless', async () => {
    expect((await vm1(['unexport', 'service', 'cache', '--namespace', 'vms'])).code).toBe(0);
    expect(await listSlices('submariner-io/clusterID=vm1')).toEqual([]);
    expect(await listSlices('multicluster.kubernetes.io/source-cluster=vm1')).toEqual([]);
    for (const si of await listImports()) {
      expect(JSON.stringify(si.status)).not.toContain('vm1');
      expect(Object.keys(si.metadata.annotations ?? {})).not.toContain('timestamp.submariner.io/vm1');
    }
    expect((await listImports()).map((s) => s.metadata.name).sort()).toEqual(['cache-vms', 'web-vms']);
    expect(storedExports()).toEqual([]);
    const again = await vm1(['unexport', 'service', 'db', '--namespace', 'vms']);
    expect(again.code).toBe(0);
    expect(again.stdout).toContain('it was not in the store');
  });
});
