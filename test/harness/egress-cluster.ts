// A simulated cluster's API objects for the egress tests: the egress CRDs, Nodes and Pods with
// their status written as a kubelet would, and helpers for the egress objects.
import { join } from 'node:path';
import { CoreV1Api, CustomObjectsApi, type KubeConfig, type V1OwnerReference } from '@kubernetes/client-node';
import { type ApiServer, type ApiServerOptions, startApiServer, startEtcd } from './apiserver.ts';
import { readYamlDocuments, waitForCrdsEstablished } from './kube.ts';
import { createCrdRaw } from './raw-api.ts';
import type { TestRun } from './run.ts';
import { buildTopology, type Topology } from './topology.ts';

/** Host `api` (etcd + the API server at 10.99.0.2) and host `ctl` (10.99.0.3) for the moor
 * processes: the egress control-plane tests' common topology. */
export async function apiAndControllerHosts(
  run: TestRun,
  options: Omit<ApiServerOptions, 'host' | 'etcd' | 'address'>,
): Promise<{ topo: Topology; api: ApiServer }> {
  const topo = await buildTopology(run, {
    hosts: { api: {}, ctl: {} },
    links: [{ a: { host: 'api', address: '10.99.0.2/24' }, b: { host: 'ctl', address: '10.99.0.3/24' } }],
  });
  const etcd = await startEtcd(run, topo.host('api'));
  const api = await startApiServer(run, { ...options, host: topo.host('api'), etcd, address: '10.99.0.2' });
  return { topo, api };
}

export const EGRESS_CRD_DIR = join(import.meta.dirname, '..', '..', 'k8s', 'egress', 'crds');
export const GROUP = 'egress.moor.io';
export const VERSION = 'v1alpha1';

/** All four by default: the controller lists the ACL mapping objects before it writes anything.
 * Tests that write slices by hand leave out the history CRD, so no controller there can sync
 * and overwrite (or delete) their slices. */
export const EGRESS_CRDS = [
  'egressgateways.yaml',
  'egresspolicies.yaml',
  'egressmapslices.yaml',
  'egressiphistories.yaml',
];
export const HAND_WRITTEN_SLICE_CRDS = ['egressgateways.yaml', 'egresspolicies.yaml', 'egressmapslices.yaml'];

export async function deployEgressCrds(
  api: ApiServer,
  files: readonly string[] = EGRESS_CRDS,
): Promise<void> {
  const crds = files.flatMap((f) => readYamlDocuments(join(EGRESS_CRD_DIR, f)));
  for (const crd of crds) await createCrdRaw(api, crd);
  await waitForCrdsEstablished(
    api.kubeConfig(),
    crds.map((c) => c.metadata?.name ?? ''),
  );
}

export async function createNamespace(
  kc: KubeConfig,
  name: string,
  labels: Record<string, string> = {},
): Promise<void> {
  const core = kc.makeApiClient(CoreV1Api);
  await core.createNamespace({ body: { metadata: { name, labels } } });
  // The ServiceAccount admission plugin needs the default account before a Pod can be created.
  await core
    .createNamespacedServiceAccount({ namespace: name, body: { metadata: { name: 'default' } } })
    .catch(() => undefined);
}

/** A Node with the status a kubelet reports: its address and Ready. */
export async function createNode(
  kc: KubeConfig,
  name: string,
  address: string,
  labels: Record<string, string> = {},
  ready = true,
): Promise<void> {
  const core = kc.makeApiClient(CoreV1Api);
  await core.createNode({ body: { metadata: { name, labels } } });
  await setNodeReady(kc, name, address, ready);
}

export async function setNodeReady(
  kc: KubeConfig,
  name: string,
  address: string,
  ready: boolean,
): Promise<void> {
  const core = kc.makeApiClient(CoreV1Api);
  // kube-controller-manager (when it runs) annotates new Nodes: on a conflict read again.
  for (let attempt = 1; ; attempt++) {
    try {
      await writeNodeStatus(core, name, address, ready);
      return;
    } catch (err) {
      if ((err as { code?: number }).code !== 409 || attempt >= 5) throw err;
    }
  }
}

async function writeNodeStatus(
  core: CoreV1Api,
  name: string,
  address: string,
  ready: boolean,
): Promise<void> {
  const node = await core.readNode({ name });
  node.status = {
    addresses: [
      { type: 'InternalIP', address },
      { type: 'Hostname', address: name },
    ],
    conditions: [
      {
        type: 'Ready',
        status: ready ? 'True' : 'False',
        reason: ready ? 'KubeletReady' : 'KubeletNotReady',
        message: 'set by the test',
        lastHeartbeatTime: new Date(),
        lastTransitionTime: new Date(),
      },
    ],
  };
  await core.replaceNodeStatus({ name, body: node });
}

/** A Pod bound to `node` and running with `ip`, as the scheduler and kubelet would leave it. */
export async function createPod(
  kc: KubeConfig,
  namespace: string,
  name: string,
  labels: Record<string, string>,
  node: string,
  ip: string | undefined,
  ownerReferences?: V1OwnerReference[],
): Promise<void> {
  const core = kc.makeApiClient(CoreV1Api);
  await core.createNamespacedPod({
    namespace,
    body: {
      metadata: { name, labels, ...(ownerReferences ? { ownerReferences } : {}) },
      spec: {
        nodeName: node,
        automountServiceAccountToken: false,
        containers: [{ name: 'app', image: 'app:1' }],
      },
    },
  });
  if (ip !== undefined) await setPodIp(kc, namespace, name, ip);
}

export async function setPodIp(kc: KubeConfig, namespace: string, name: string, ip: string): Promise<void> {
  const core = kc.makeApiClient(CoreV1Api);
  const pod = await core.readNamespacedPod({ namespace, name });
  pod.status = { phase: 'Running', podIP: ip, podIPs: [{ ip }], hostIP: '10.99.10.3', startTime: new Date() };
  await core.replaceNamespacedPodStatus({ namespace, name, body: pod });
}

export interface EgressObjects {
  custom: CustomObjectsApi;
  createGateway(name: string, spec: Record<string, unknown>): Promise<void>;
  createPolicy(name: string, spec: Record<string, unknown>): Promise<void>;
  patchPolicy(name: string, spec: Record<string, unknown>): Promise<void>;
  deleteGateway(name: string): Promise<void>;
  policy(name: string): Promise<EgressObject>;
  gateway(name: string): Promise<EgressObject>;
}

export interface EgressObject {
  metadata: { name: string; resourceVersion: string; uid: string };
  spec: Record<string, unknown>;
  status?: {
    ips?: string[];
    selectedPods?: number;
    activeNode?: string;
    allocatedCount?: number;
    freeCount?: number;
    readyNodes?: string[];
    conditions?: { type: string; status: string; reason: string; message: string }[];
  };
}

export function egressObjects(kc: KubeConfig): EgressObjects {
  const custom = kc.makeApiClient(CustomObjectsApi);
  const body = (kind: string, name: string, spec: Record<string, unknown>) => ({
    apiVersion: `${GROUP}/${VERSION}`,
    kind,
    metadata: { name },
    spec,
  });
  const get = async (plural: string, name: string) =>
    (await custom.getClusterCustomObject({ group: GROUP, version: VERSION, plural, name })) as EgressObject;
  return {
    custom,
    async createGateway(name, spec) {
      await custom.createClusterCustomObject({
        group: GROUP,
        version: VERSION,
        plural: 'egressgateways',
        body: body('EgressGateway', name, spec),
      });
    },
    async createPolicy(name, spec) {
      await custom.createClusterCustomObject({
        group: GROUP,
        version: VERSION,
        plural: 'egresspolicies',
        body: body('EgressPolicy', name, spec),
      });
    },
    async patchPolicy(name, spec) {
      const current = await get('egresspolicies', name);
      await custom.replaceClusterCustomObject({
        group: GROUP,
        version: VERSION,
        plural: 'egresspolicies',
        name,
        body: { ...current, spec: { ...current.spec, ...spec } },
      });
    },
    async deleteGateway(name) {
      await custom.deleteClusterCustomObject({
        group: GROUP,
        version: VERSION,
        plural: 'egressgateways',
        name,
      });
    },
    policy: (name) => get('egresspolicies', name),
    gateway: (name) => get('egressgateways', name),
  };
}

export function condition(o: EgressObject, type: string) {
  return o.status?.conditions?.find((c) => c.type === type);
}
