// The foundation every other end-to-end test stands on: a real API server with the Submariner
// CRDs and broker RBAC, and real WireGuard between namespaces.
import { join } from 'node:path';
import {
  CoreV1Api,
  CustomObjectsApi,
  type KubernetesObject,
  KubernetesObjectApi,
  makeInformer,
} from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ApiServer, startApiServer, startEtcd } from '../harness/apiserver.ts';
import { type BrokerFixture, deployBroker } from '../harness/broker.ts';
import { readYamlDocuments, serviceAccountWithRole } from '../harness/kube.ts';
import { waitFor } from '../harness/process.ts';
import { TestRun } from '../harness/run.ts';
import { buildTopology, type Topology } from '../harness/topology.ts';
import { addWgPeer, startWireGuardGo } from '../harness/wireguard.ts';

let run: TestRun;
let topo: Topology;
let api: ApiServer;
let broker: BrokerFixture;

beforeAll(async () => {
  run = TestRun.start();
  topo = await buildTopology(run, {
    hosts: { broker: {}, wan: { forwarding: true }, left: {}, right: {} },
    links: [
      { a: { host: 'broker', address: '10.99.0.2/24' }, b: { host: 'wan', address: '10.99.0.1/24' } },
      { a: { host: 'left', address: '10.99.1.2/24' }, b: { host: 'wan', address: '10.99.1.1/24' } },
      { a: { host: 'right', address: '10.99.2.2/24' }, b: { host: 'wan', address: '10.99.2.1/24' } },
    ],
    routes: [
      { host: 'broker', to: 'default', via: '10.99.0.1' },
      { host: 'left', to: 'default', via: '10.99.1.1' },
      { host: 'right', to: 'default', via: '10.99.2.1' },
    ],
  });
  const etcd = await startEtcd(run, topo.host('broker'));
  api = await startApiServer(run, { name: 'broker', host: topo.host('broker'), etcd, address: '10.99.0.2' });
  broker = await deployBroker(api.kubeConfig());
});

afterAll(async () => {
  await run?.cleanup();
});

const endpointsPath = (ns: string) => `/apis/submariner.io/v1/namespaces/${ns}/endpoints`;

function endpointObject(name: string, spec: Record<string, unknown>) {
  return {
    apiVersion: 'submariner.io/v1',
    kind: 'Endpoint',
    metadata: { name, labels: { 'submariner-io/clusterID': String(spec.cluster_id) } },
    spec,
  };
}

const validSpec = {
  cluster_id: 'east',
  cable_name: 'submariner-cable-east-10-99-1-2',
  hostname: 'east-gw',
  subnets: ['10.10.0.0/16'],
  private_ip: '10.99.1.2',
  public_ip: '',
  nat_enabled: false,
  backend: 'wireguard',
  backend_config: { publicKey: `${'x'.repeat(43)}=`, 'udp-port': '4500' },
};

describe('test API server', () => {
  it('serves the Submariner CRDs: an Endpoint arrives through a client-node informer', async () => {
    const kc = api.kubeConfig();
    const custom = kc.makeApiClient(CustomObjectsApi);
    const path = endpointsPath(broker.namespace);
    const informer = makeInformer<KubernetesObject>(kc, path, () =>
      custom.listNamespacedCustomObject({
        group: 'submariner.io',
        version: 'v1',
        namespace: broker.namespace,
        plural: 'endpoints',
      }),
    );
    const seen: string[] = [];
    informer.on('add', (obj) => seen.push(obj.metadata?.name ?? ''));
    await informer.start();
    try {
      await custom.createNamespacedCustomObject({
        group: 'submariner.io',
        version: 'v1',
        namespace: broker.namespace,
        plural: 'endpoints',
        body: endpointObject('east-submariner-cable-east-10-99-1-2', validSpec),
      });
      await waitFor('informer add event', () =>
        seen.includes('east-submariner-cable-east-10-99-1-2') ? true : undefined,
      );
    } finally {
      await informer.stop();
    }
  });

  it('rejects an Endpoint that the real CRD schema forbids (no cable_name)', async () => {
    const custom = api.kubeConfig().makeApiClient(CustomObjectsApi);
    const { cable_name: _omitted, ...spec } = validSpec;
    await expect(
      custom.createNamespacedCustomObject({
        group: 'submariner.io',
        version: 'v1',
        namespace: broker.namespace,
        plural: 'endpoints',
        body: endpointObject('east-invalid', spec),
      }),
    ).rejects.toMatchObject({ code: 422, body: expect.stringContaining('cable_name') });
  });

  it('enforces RBAC: a member token may write Endpoints but not delete the namespace or read ConfigMaps', async () => {
    const admin = api.kubeConfig();
    const token = await serviceAccountWithRole(
      admin,
      broker.namespace,
      'cluster-rbac-test',
      'submariner-k8s-broker-cluster',
    );
    const member = api.kubeConfig(token);
    const custom = member.makeApiClient(CustomObjectsApi);
    const created = await custom.createNamespacedCustomObject({
      group: 'submariner.io',
      version: 'v1',
      namespace: broker.namespace,
      plural: 'endpoints',
      body: endpointObject('rbac-submariner-cable-rbac-10-99-3-2', {
        ...validSpec,
        cluster_id: 'rbac',
        cable_name: 'submariner-cable-rbac-10-99-3-2',
      }),
    });
    expect(created).toMatchObject({ metadata: { name: 'rbac-submariner-cable-rbac-10-99-3-2' } });
    const core = member.makeApiClient(CoreV1Api);
    await expect(core.deleteNamespace({ name: broker.namespace })).rejects.toMatchObject({ code: 403 });
    await expect(core.listNamespacedConfigMap({ namespace: broker.namespace })).rejects.toMatchObject({
      code: 403,
    });
    // The namespace is still there: the refusal was real, not a race with a deletion.
    await expect(
      admin.makeApiClient(CoreV1Api).readNamespace({ name: broker.namespace }),
    ).resolves.toMatchObject({
      status: { phase: 'Active' },
    });
  });

  it('accepts the shipped gateway manifests (k8s/gateway) as valid objects', async () => {
    const docs = readYamlDocuments(join(import.meta.dirname, '..', '..', 'k8s', 'gateway', 'gateway.yaml'));
    expect(docs.map((d) => d.kind)).toEqual([
      'Namespace',
      'ServiceAccount',
      'Role',
      'RoleBinding',
      'DaemonSet',
    ]);
    const client = KubernetesObjectApi.makeApiClient(api.kubeConfig());
    // The namespace for real, the rest as server-side dry runs: validated and admitted, not stored.
    for (const doc of docs) await client.create(doc, undefined, doc.kind === 'Namespace' ? undefined : 'All');
  });

  it('fills the broker admin token Secret like subctl deploy-broker expects', () => {
    expect(broker.adminToken.split('.')).toHaveLength(3); // a signed JWT
    expect(broker.caCrt).toContain('BEGIN CERTIFICATE');
  });
});

describe('WireGuard between namespaces', () => {
  it('brings a wireguard-go tunnel up and a ping crosses it', async () => {
    const left = topo.host('left');
    const right = topo.host('right');
    const wl = await startWireGuardGo(run, left, '10.200.0.1/24', 51820);
    const wr = await startWireGuardGo(run, right, '10.200.0.2/24', 51820);
    await addWgPeer(left, wl, {
      publicKey: wr.keys.publicKey,
      endpoint: '10.99.2.2:51820',
      allowedIps: ['10.200.0.2/32'],
    });
    await addWgPeer(right, wr, {
      publicKey: wl.keys.publicKey,
      endpoint: '10.99.1.2:51820',
      allowedIps: ['10.200.0.1/32'],
    });
    await waitFor(
      'ping over the tunnel',
      async () => ((await left.ping('10.200.0.2', 1)) ? true : undefined),
      { timeoutMs: 15_000 },
    );
    const dump = (await left.exec(['wg', 'show', wl.name, 'latest-handshakes'])).stdout;
    expect(dump).toContain(wr.keys.publicKey);
    expect(Number(dump.trim().split(/\s+/)[1])).toBeGreaterThan(0);
  });
});
