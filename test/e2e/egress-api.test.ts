// The egress API (k8s/egress/crds) as the real API server sees it: structural schemas with
// defaults, CEL rules that refuse bad input with a message naming the field, status subresources
// and printer columns.

import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  ApiextensionsV1Api,
  AppsV1Api,
  BatchV1Api,
  CoreV1Api,
  CustomObjectsApi,
  type KubernetesObject,
  KubernetesObjectApi,
} from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { type ApiServer, startApiServer, startEtcd } from '../harness/apiserver.ts';
import { deployEgressCrds } from '../harness/egress-cluster.ts';
import { mintToken, readYamlDocuments } from '../harness/kube.ts';
import { TestRun } from '../harness/run.ts';
import { buildTopology } from '../harness/topology.ts';

const EGRESS_DIR = join(import.meta.dirname, '..', '..', 'k8s', 'egress');
const CRD_DIR = join(EGRESS_DIR, 'crds');
const GROUP = 'egress.moor.io';
const VERSION = 'v1alpha1';

let run: TestRun;
let api: ApiServer;
let custom: CustomObjectsApi;

beforeAll(async () => {
  run = TestRun.start();
  const topo = await buildTopology(run, {
    hosts: { api: {}, lan: {} },
    links: [{ a: { host: 'api', address: '10.99.0.2/24' }, b: { host: 'lan', address: '10.99.0.1/24' } }],
  });
  const etcd = await startEtcd(run, topo.host('api'));
  api = await startApiServer(run, { name: 'egress', host: topo.host('api'), etcd, address: '10.99.0.2' });
  const kc = api.kubeConfig();
  await deployEgressCrds(api);
  custom = kc.makeApiClient(CustomObjectsApi);
});

afterAll(async () => {
  await run?.cleanup();
});

function gateway(name: string, spec: Record<string, unknown>): KubernetesObject & { spec: unknown } {
  return { apiVersion: `${GROUP}/${VERSION}`, kind: 'EgressGateway', metadata: { name }, spec };
}
function policy(name: string, spec: Record<string, unknown>): KubernetesObject & { spec: unknown } {
  return { apiVersion: `${GROUP}/${VERSION}`, kind: 'EgressPolicy', metadata: { name }, spec };
}
const createGateway = (body: object, dryRun?: string) =>
  custom.createClusterCustomObject({
    group: GROUP,
    version: VERSION,
    plural: 'egressgateways',
    body,
    dryRun,
  });
const createPolicy = (body: object, dryRun?: string) =>
  custom.createClusterCustomObject({
    group: GROUP,
    version: VERSION,
    plural: 'egresspolicies',
    body,
    dryRun,
  });

const goodGateway = {
  nodeSelector: { matchLabels: { 'egress.moor.io/gateway': 'east' } },
  pool: {
    cidrs: ['10.99.10.32/28'],
    ranges: [{ start: '10.99.10.100', end: '10.99.10.110' }],
    exclude: ['10.99.10.33'],
  },
  interface: 'eth0',
  subnet: '10.99.10.0/24',
  floatingIP: '10.99.10.254',
  vni: 4100,
};
const goodPolicy = {
  namespaceSelector: { matchLabels: { team: 'payments' } },
  podSelector: { matchExpressions: [{ key: 'app', operator: 'In', values: ['checkout'] }] },
  destinations: [{ cidr: '0.0.0.0/0', except: ['10.0.0.0/8'] }],
  gateway: 'east',
};

describe('egress CRDs on the real API server', () => {
  it('accepts a gateway and a policy and fills the defaults', async () => {
    const gw = (await createGateway(gateway('east', goodGateway))) as { spec: Record<string, unknown> };
    expect(gw.spec.vxlanPort).toBe(4789);
    const p = (await createPolicy(policy('checkout', goodPolicy))) as { spec: Record<string, unknown> };
    expect(p.spec).toMatchObject({ priority: 0, failurePolicy: 'Closed' });
  });

  it('writes status only through the status subresource', async () => {
    const status = {
      ips: ['10.99.10.34'],
      selectedPods: 2,
      conditions: [
        {
          type: 'Ready',
          status: 'True',
          reason: 'Allocated',
          message: 'ok',
          lastTransitionTime: '2026-12-01T08:00:00Z',
        },
      ],
    };
    const patched = (await custom.replaceClusterCustomObjectStatus({
      group: GROUP,
      version: VERSION,
      plural: 'egresspolicies',
      name: 'checkout',
      body: { ...(await readPolicy('checkout')), status },
    })) as { status: unknown };
    expect(patched.status).toMatchObject(status);
    // A write of the main resource ignores status: users cannot forge allocations that way.
    const current = await readPolicy('checkout');
    const replaced = (await custom.replaceClusterCustomObject({
      group: GROUP,
      version: VERSION,
      plural: 'egresspolicies',
      name: 'checkout',
      body: { ...current, status: { ips: ['10.99.10.40'] } },
    })) as { status: { ips: string[] } };
    expect(replaced.status.ips).toEqual(['10.99.10.34']);
  });

  it('has printer columns for the firewall view', async () => {
    const ext = api.kubeConfig().makeApiClient(ApiextensionsV1Api);
    const crd = await ext.readCustomResourceDefinition({ name: 'egresspolicies.egress.moor.io' });
    const columns = crd.spec.versions[0]?.additionalPrinterColumns?.map((c) => c.name);
    expect(columns).toEqual(['Gateway', 'Egress-IPs', 'Priority', 'Pods', 'Active-Node', 'Ready', 'Age']);
  });

  const badGateways: Array<[string, Record<string, unknown>, string]> = [
    ['a pool CIDR that is not IPv4', { pool: { cidrs: ['fd00::/64'] } }, 'must be an IPv4 CIDR'],
    ['an empty pool', { pool: { exclude: ['10.99.10.1'] } }, 'the pool needs at least one CIDR or range'],
    ['a floating IP outside the subnet', { floatingIP: '10.98.0.1' }, 'floatingIP must be inside subnet'],
    [
      'a pool CIDR outside the subnet',
      { pool: { cidrs: ['10.98.0.0/28'] } },
      'every pool CIDR must be inside subnet',
    ],
    [
      'a range outside the subnet',
      { pool: { ranges: [{ start: '10.99.10.1', end: '10.99.11.1' }] } },
      'every pool range must be inside subnet',
    ],
    ['a VNI of 0', { vni: 0 }, 'spec.vni'],
    ['an interface name with a slash', { interface: 'eth0/1' }, 'spec.interface'],
  ];
  for (const [what, change, message] of badGateways) {
    it(`refuses a gateway with ${what}`, async () => {
      await expect(createGateway(gateway('bad', { ...goodGateway, ...change }), 'All')).rejects.toMatchObject(
        {
          code: 422,
          body: expect.stringContaining(message),
        },
      );
    });
  }

  const badPolicies: Array<[string, Record<string, unknown>, string]> = [
    ['both ips and count', { ips: ['10.99.10.34'], count: 2 }, 'set either ips or count, not both'],
    ['a destination that is not a CIDR', { destinations: [{ cidr: '10.0.0.1' }] }, 'must be an IPv4 CIDR'],
    [
      'an exception outside its destination',
      { destinations: [{ cidr: '10.50.0.0/16', except: ['10.60.0.0/24'] }] },
      'every exception must be inside its destination cidr',
    ],
    ['no destinations', { destinations: [] }, 'spec.destinations'],
    ['an unknown failurePolicy', { failurePolicy: 'Maybe' }, 'spec.failurePolicy'],
    ['a fixed IP that is not IPv4', { ips: ['10.99.10.300'] }, 'must be an IPv4 address'],
    [
      'In without values',
      { podSelector: { matchExpressions: [{ key: 'app', operator: 'In' }] } },
      'In and NotIn need values',
    ],
    ['an ingress port out of range', { ingress: { ports: [{ port: 70000 }] } }, 'spec.ingress.ports[0].port'],
    [
      'an ingress port listed twice (protocol defaults to TCP)',
      { ingress: { ports: [{ port: 80 }, { port: 80, protocol: 'TCP' }] } },
      'each port and protocol may be listed once',
    ],
    [
      'an ingress protocol other than TCP or UDP',
      { ingress: { ports: [{ port: 80, protocol: 'SCTP' }] } },
      'spec.ingress.ports[0].protocol',
    ],
    ['an ingress section without ports', { ingress: { ports: [] } }, 'spec.ingress.ports'],
  ];
  for (const [what, change, message] of badPolicies) {
    it(`refuses a policy with ${what}`, async () => {
      await expect(createPolicy(policy('bad', { ...goodPolicy, ...change }), 'All')).rejects.toMatchObject({
        code: 422,
        body: expect.stringContaining(message),
      });
    });
  }
});

async function readPolicy(name: string): Promise<Record<string, unknown>> {
  return (await custom.getClusterCustomObject({
    group: GROUP,
    version: VERSION,
    plural: 'egresspolicies',
    name,
  })) as Record<string, unknown>;
}

describe('the shipped manifests (k8s/egress)', () => {
  it('the kustomization lists every manifest, and the API server accepts all of them', async () => {
    const k = parse(readFileSync(join(EGRESS_DIR, 'kustomization.yaml'), 'utf8')) as { resources: string[] };
    const onDisk = [
      ...readdirSync(EGRESS_DIR).filter((f) => f.endsWith('.yaml') && f !== 'kustomization.yaml'),
      ...readdirSync(CRD_DIR).map((f) => `crds/${f}`),
    ].sort();
    expect([...k.resources].sort()).toEqual(onDisk);
    const client = KubernetesObjectApi.makeApiClient(api.kubeConfig());
    for (const file of k.resources.filter((f) => !f.startsWith('crds/'))) {
      for (const doc of readYamlDocuments(join(EGRESS_DIR, file))) {
        // Namespaces, accounts and RBAC for real (the next test uses them); workloads as dry runs.
        const real = [
          'Namespace',
          'ServiceAccount',
          'ClusterRole',
          'ClusterRoleBinding',
          'Role',
          'RoleBinding',
        ];
        await client.create(doc, undefined, real.includes(doc.kind ?? '') ? undefined : 'All');
      }
    }
  });

  it('gives each component least privilege: the node agent only reads, the controller cannot edit specs', async () => {
    const admin = api.kubeConfig();
    const agent = api.kubeConfig(await mintToken(admin, 'moor-egress', 'moor-egress-node-agent'));
    const controller = api.kubeConfig(await mintToken(admin, 'moor-egress', 'moor-egress-controller'));
    const agentCustom = agent.makeApiClient(CustomObjectsApi);
    await expect(agent.makeApiClient(CoreV1Api).listPodForAllNamespaces()).resolves.toMatchObject({
      items: expect.any(Array),
    });
    await expect(
      agentCustom.listClusterCustomObject({ group: GROUP, version: VERSION, plural: 'egresspolicies' }),
    ).resolves.toBeDefined();
    // Authorization comes before anything else looks at the request: 403 is RBAC's answer.
    await expect(
      agentCustom.patchClusterCustomObjectStatus({
        group: GROUP,
        version: VERSION,
        plural: 'egresspolicies',
        name: 'checkout',
        body: [{ op: 'replace', path: '/status/selectedPods', value: 3 }],
      }),
    ).rejects.toMatchObject({ code: 403 });
    await expect(
      controller.makeApiClient(CustomObjectsApi).deleteClusterCustomObject({
        group: GROUP,
        version: VERSION,
        plural: 'egresspolicies',
        name: 'checkout',
      }),
    ).rejects.toMatchObject({ code: 403 });
    await expect(
      controller.makeApiClient(CoreV1Api).listNamespacedSecret({ namespace: 'moor-egress' }),
    ).rejects.toMatchObject({ code: 403 });
  });

  it('lets the controller read pod owners and write the ACL mapping, and nothing more', async () => {
    const controller = api.kubeConfig(
      await mintToken(api.kubeConfig(), 'moor-egress', 'moor-egress-controller'),
    );
    const c = controller.makeApiClient(CustomObjectsApi);
    await expect(controller.makeApiClient(AppsV1Api).listReplicaSetForAllNamespaces()).resolves.toBeDefined();
    await expect(controller.makeApiClient(BatchV1Api).listJobForAllNamespaces()).resolves.toBeDefined();
    const slice = {
      apiVersion: `${GROUP}/${VERSION}`,
      kind: 'EgressMapSlice',
      metadata: { name: 'rbac-0', labels: { 'egress.moor.io/policy': 'rbac' } },
      policy: 'rbac',
      gateway: 'east',
      destinations: [{ cidr: '10.50.0.0/24' }],
      entries: [],
    };
    const history = {
      apiVersion: `${GROUP}/${VERSION}`,
      kind: 'EgressIPHistory',
      metadata: { name: 'ip-10-99-10-9' },
      ip: '10.99.10.9',
      records: [],
    };
    for (const [plural, body] of [
      ['egressmapslices', slice],
      ['egressiphistories', history],
    ] as const) {
      const ref = { group: GROUP, version: VERSION, plural };
      const created = (await c.createClusterCustomObject({ ...ref, body })) as KubernetesObject;
      await c.replaceClusterCustomObject({ ...ref, name: body.metadata.name, body: created });
      await expect(c.getClusterCustomObject({ ...ref, name: body.metadata.name })).resolves.toBeDefined();
      await c.deleteClusterCustomObject({ ...ref, name: body.metadata.name });
    }
    // What it must not do: write workloads, delete pods, write policy specs.
    await expect(
      controller.makeApiClient(AppsV1Api).createNamespacedReplicaSet({
        namespace: 'default',
        body: { metadata: { name: 'x' }, spec: { selector: { matchLabels: { a: 'b' } } } },
      }),
    ).rejects.toMatchObject({ code: 403 });
    await expect(
      controller.makeApiClient(AppsV1Api).deleteNamespacedReplicaSet({ namespace: 'default', name: 'x' }),
    ).rejects.toMatchObject({ code: 403 });
    await expect(
      controller.makeApiClient(BatchV1Api).deleteNamespacedJob({ namespace: 'default', name: 'x' }),
    ).rejects.toMatchObject({ code: 403 });
    await expect(
      controller.makeApiClient(CoreV1Api).deleteNamespacedPod({ namespace: 'default', name: 'x' }),
    ).rejects.toMatchObject({ code: 403 });
    await expect(
      c.replaceClusterCustomObject({
        group: GROUP,
        version: VERSION,
        plural: 'egresspolicies',
        name: 'checkout',
        body: policy('checkout', {}),
      }),
    ).rejects.toMatchObject({ code: 403 });
  });

  it('takes status.mapping as the controller writes it, and refuses a malformed one', async () => {
    const ref = { group: GROUP, version: VERSION, plural: 'egresspolicies', name: 'checkout' };
    const mapping = {
      mappedPods: 3,
      podsWithIP: 3,
      slices: 1,
      workloadCount: 1,
      workloads: ['Deployment/payments/checkout'],
      ips: [{ ip: '10.99.10.1', pods: 3 }],
    };
    const withMapping = async (m: unknown) => {
      const current = (await readPolicy('checkout')) as { status?: Record<string, unknown> };
      return custom.replaceClusterCustomObjectStatus({
        ...ref,
        body: { ...current, status: { ...current.status, mapping: m } },
      }) as Promise<{ status?: { mapping?: unknown } }>;
    };
    expect((await withMapping(mapping)).status?.mapping).toEqual(mapping);
    await expect(withMapping({ ...mapping, mappedPods: -1 })).rejects.toMatchObject({ code: 422 });
    await expect(withMapping({ ...mapping, ips: [{ ip: '10.99.10.1' }] })).rejects.toMatchObject({
      code: 422,
    });
  });
});
