// The standard end-to-end clusterset: a broker and two simulated clusters, each with two gateway
// nodes (active/passive `moor gateway`), a worker node and a pod behind it, plus host vm1 behind
// a NAT router. Cluster API servers (for the gateway Lease) share the broker's etcd under their
// own prefixes. Pods reach remote subnets through the floating gateway address, as Submariner's
// route agent would steer them to the active gateway.
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { KubeRestClient } from '../../src/k8s/rest.ts';
import { type ApiServer, startApiServer, startEtcd } from './apiserver.ts';
import { type BrokerFixture, deployBroker, writeBrokerInfo } from './broker.ts';
import { createObjects, serviceAccountWithRole } from './kube.ts';
import { moor, startMoor } from './moor.ts';
import type { RunningProcess } from './process.ts';
import type { TestRun } from './run.ts';
import { buildTopology, type Host, type Topology } from './topology.ts';

export interface SimCluster {
  id: string;
  /** Third octet of the node LAN 10.99.<n>.0/24 and second octet of the pod CIDR 10.<n/ 1>.0.0/16. */
  lan: string;
  podCidr: string;
  serviceCidr: string;
  vip: string;
  gateways: string[];
  worker: string;
  pod: string;
  podAddress: string;
  api: ApiServer;
  brokerInfo: string;
  kubeconfig: string;
  /** The gateways' shared heartbeat secret (as the moor-gateway-heartbeat Secret would hold). */
  heartbeatKey: string;
  /** WireGuard interface name per gateway host (machine-wide unique). */
  wgName: Record<string, string>;
  processes: Record<string, RunningProcess>;
}

export interface Clusterset {
  topo: Topology;
  api: ApiServer;
  broker: BrokerFixture;
  adminBrokerInfo: string;
  clusters: Record<'east' | 'west', SimCluster>;
}

const CLUSTERS = {
  east: { n: 10, pod: '10.10.0.0/16', svc: '10.110.0.0/16' },
  west: { n: 20, pod: '10.20.0.0/16', svc: '10.120.0.0/16' },
} as const;

export const HOST_POOL = '100.70.0.0/16';

export async function buildClusterset(run: TestRun): Promise<Clusterset> {
  const hosts: Record<string, { forwarding?: boolean }> = {
    broker: {},
    wan: { forwarding: true },
    nat1: { forwarding: true },
    vm1: {},
  };
  const lans = [];
  const links = [
    { a: { host: 'broker', address: '10.99.0.2/24' }, b: { host: 'wan', address: '10.99.0.1/24' } },
    {
      a: { host: 'nat1', address: '10.99.3.2/24', ifname: 'wan0' },
      b: { host: 'wan', address: '10.99.3.1/24' },
    },
    { a: { host: 'vm1', address: '192.168.77.2/24' }, b: { host: 'nat1', address: '192.168.77.1/24' } },
  ];
  const routes = [
    { host: 'broker', to: 'default', via: '10.99.0.1' },
    { host: 'nat1', to: 'default', via: '10.99.3.1' },
    { host: 'vm1', to: 'default', via: '192.168.77.1' },
  ];
  for (const [id, c] of Object.entries(CLUSTERS)) {
    const p = id[0];
    const [gw1, gw2, worker, pod] = [`${p}gw1`, `${p}gw2`, `${p}worker`, `${p}pod`];
    for (const h of [gw1, gw2, worker]) hosts[h] = { forwarding: true };
    hosts[pod] = {};
    const lan = `10.99.${c.n}`;
    lans.push({
      name: id,
      members: [
        { host: gw1, address: `${lan}.2/24` },
        { host: gw2, address: `${lan}.3/24` },
        { host: worker, address: `${lan}.4/24` },
        { host: 'wan', address: `${lan}.254/24` },
      ],
    });
    const podNet = `10.${c.n}`;
    links.push({
      a: { host: pod, address: `${podNet}.1.2/24` },
      b: { host: worker, address: `${podNet}.1.1/24` },
    });
    routes.push({ host: pod, to: 'default', via: `${podNet}.1.1` });
    for (const gw of [gw1, gw2]) {
      routes.push({ host: gw, to: 'default', via: `${lan}.254` });
      routes.push({ host: gw, to: `${podNet}.1.0/24`, via: `${lan}.4` });
    }
    routes.push({ host: worker, to: 'default', via: `${lan}.254` });
    // What Submariner's route agent does on non-gateway nodes: remote subnets to the gateway.
    for (const [otherId, o] of Object.entries(CLUSTERS)) {
      if (otherId === id) continue;
      routes.push(
        { host: worker, to: o.pod, via: `${lan}.10` },
        { host: worker, to: o.svc, via: `${lan}.10` },
      );
    }
    routes.push({ host: worker, to: HOST_POOL, via: `${lan}.10` });
  }
  const topo = await buildTopology(run, {
    hosts,
    links,
    lans,
    routes,
    nat: [{ host: 'nat1', source: '192.168.77.0/24', outIfname: 'wan0' }],
  });

  const etcd = await startEtcd(run, topo.host('broker'));
  const api = await startApiServer(run, {
    name: 'broker',
    host: topo.host('broker'),
    etcd,
    address: '10.99.0.2',
  });
  const broker = await deployBroker(api.kubeConfig());
  const adminBrokerInfo = writeBrokerInfo(run.dir, api.url, broker);

  const clusters = {} as Record<'east' | 'west', SimCluster>;
  let port = 6444;
  for (const [id, c] of Object.entries(CLUSTERS) as Array<
    ['east' | 'west', (typeof CLUSTERS)['east' | 'west']]
  >) {
    const p = id[0];
    const lan = `10.99.${c.n}`;
    const capi = await startApiServer(run, {
      name: id,
      host: topo.host('broker'),
      etcd,
      address: '10.99.0.2',
      port,
      controllerManager: false,
    });
    port += 1;
    await createObjects(capi.kubeConfig(), [
      { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'moor-system' } },
    ]);
    const token = await serviceAccountWithRole(
      api.kubeConfig(),
      broker.namespace,
      `cluster-${id}`,
      'submariner-k8s-broker-cluster',
    );
    const kubeconfig = join(run.dir, `${id}.kubeconfig`);
    writeFileSync(kubeconfig, capi.kubeConfigYaml(), { mode: 0o600 });
    const heartbeatKey = join(run.dir, `${id}-heartbeat.key`);
    writeFileSync(heartbeatKey, randomBytes(32), { mode: 0o600 });
    const gateways = [`${p}gw1`, `${p}gw2`];
    // Each gateway node's CNI interface: an address inside the pod CIDR (the health-check IP).
    for (const [i, gw] of gateways.entries()) {
      const h = topo.host(gw);
      await h.exec(['ip', 'link', 'add', 'cni0', 'type', 'bridge']);
      await h.exec(['ip', 'addr', 'add', `10.${c.n}.${2 + i}.1/24`, 'dev', 'cni0']);
      await h.exec(['ip', 'link', 'set', 'cni0', 'up']);
    }
    clusters[id] = {
      id,
      lan,
      podCidr: c.pod,
      serviceCidr: c.svc,
      vip: `${lan}.10`,
      gateways,
      worker: `${p}worker`,
      pod: `${p}pod`,
      podAddress: `10.${c.n}.1.2`,
      api: capi,
      brokerInfo: writeBrokerInfo(run.dir, api.url, broker, token),
      kubeconfig,
      heartbeatKey,
      wgName: Object.fromEntries(gateways.map((g) => [g, run.ifName('w')])),
      processes: {},
    };
  }
  return { topo, api, broker, adminBrokerInfo, clusters };
}

/** Start `moor gateway` on one gateway node of a simulated cluster. */
export function startGateway(
  run: TestRun,
  cs: Clusterset,
  cluster: SimCluster,
  gw: string,
  name = 'gateway',
): RunningProcess {
  const proc = startMoor(cs.topo.host(gw), `${name}-${gw}`, [
    'gateway',
    '--broker-info',
    cluster.brokerInfo,
    '--clusterid',
    cluster.id,
    '--cluster-cidr',
    cluster.podCidr,
    '--service-cidr',
    cluster.serviceCidr,
    '--kubeconfig',
    cluster.kubeconfig,
    '--vip',
    `${cluster.vip}/24`,
    '--vip-interface',
    `to-${cluster.id}`,
    '--interface',
    cluster.wgName[gw] ?? '',
    '--identity',
    gw,
    '--hostname',
    gw,
    // Production HA timings (the defaults); heartbeats authenticated with the cluster's key.
    '--heartbeat-key-file',
    cluster.heartbeatKey,
    '--resync',
    '5',
    '--state-dir',
    join(run.dir, `state-${gw}`),
  ]);
  cluster.processes[gw] = proc;
  return proc;
}

export interface JoinedHost {
  stateDir: string;
  /** The clusterset address join allocated. */
  address: string;
  agent: RunningProcess;
}

/** Start `moor gateway` on every gateway node of both clusters. */
export function startAllGateways(run: TestRun, cs: Clusterset): void {
  for (const c of Object.values(cs.clusters)) for (const gw of c.gateways) startGateway(run, cs, c, gw);
}

/** `moor join` host vm1 (behind the NAT router) with the admin broker-info, then start its agent. */
export function joinVm1(
  run: TestRun,
  cs: Clusterset,
  agentArgs: string[] = ['--resync', '5'],
): Promise<JoinedHost> {
  return joinHost(run, cs.topo.host('vm1'), cs.adminBrokerInfo, ['--public-ip', '10.99.3.2'], agentArgs);
}

/** `moor join` a host as cluster "vm1" with `brokerInfo`, then start its agent. */
export async function joinHost(
  run: TestRun,
  host: Host,
  brokerInfo: string,
  joinArgs: string[] = [],
  agentArgs: string[] = ['--resync', '5'],
): Promise<JoinedHost> {
  const stateDir = join(run.dir, `${host.name}-state`);
  const r = await moor(host, [
    'join',
    brokerInfo,
    '--clusterid',
    'vm1',
    ...joinArgs,
    '--interface',
    run.ifName('w'),
    '--state-dir',
    stateDir,
    '--no-start',
  ]);
  if (r.code !== 0) throw new Error(`moor join failed:\n${r.stderr}`);
  const address = (JSON.parse(r.stdout) as { addresses: string[] }).addresses[0] ?? '';
  const agent = startMoor(host, 'agent', ['agent', '--state-dir', stateDir, ...agentArgs]);
  return { stateDir, address, agent };
}

/** The broker path of Submariner Cluster objects (spec §2.1). */
const clustersPath = (namespace: string) => `/apis/submariner.io/v1/namespaces/${namespace}/clusters`;

/**
 * A member joins as Submariner's datastore syncer makes it (spec §2.6): its Cluster object in the
 * broker namespace, named by its cluster ID and labelled with it, written with the member's own
 * broker credential. Written here literally, independent of moor's builders.
 */
export async function publishClusterObject(
  client: KubeRestClient,
  namespace: string,
  id: string,
  cidrs: { cluster: string; service: string },
): Promise<void> {
  await client.create(clustersPath(namespace), {
    apiVersion: 'submariner.io/v1',
    kind: 'Cluster',
    metadata: { name: id, labels: { 'submariner-io/clusterID': id } },
    spec: {
      cluster_id: id,
      color_codes: ['blue'],
      service_cidr: [cidrs.service],
      cluster_cidr: [cidrs.cluster],
      global_cidr: [],
    },
  });
}

/** A member leaves: its Cluster object is deleted (what Submariner's cleanup and `moor leave` do). */
export async function withdrawClusterObject(
  client: KubeRestClient,
  namespace: string,
  id: string,
): Promise<void> {
  await client.delete(`${clustersPath(namespace)}/${encodeURIComponent(id)}`);
}
