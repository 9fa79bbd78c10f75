// A simulated cluster for the egress data path: an API server and a router on one LAN with two
// gateway nodes and two workers, pods as namespaces with a veth into their node (Calico-style:
// /32 address, default route to the link, proxy ARP on the node end), host-gw routes between
// nodes, and `fw` behind the router, whose nft set counts every source address it sees.
// Two CNI styles: 'routed' (pod IPs are routed, the router knows the pod CIDRs) and
// 'masquerade' (workers masquerade everything from the pod CIDR that leaves for outside the
// cluster, on ANY interface, as flannel and Calico natOutgoing do).
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { KubeConfig, V1OwnerReference } from '@kubernetes/client-node';
import { type ApiServer, startApiServer, startEtcd } from './apiserver.ts';
import { createNamespace, createNode, createPod, deployEgressCrds } from './egress-cluster.ts';
import { exec } from './exec.ts';
import type { TestRun } from './run.ts';
import { buildTopology, Host, type Topology } from './topology.ts';

export type CniStyle = 'routed' | 'masquerade';

export const LAN = '10.99.10.0/24';
export const FW = '10.99.50.2';
export const NODES = { gw1: '10.99.10.2', gw2: '10.99.10.5', w1: '10.99.10.3', w2: '10.99.10.4' } as const;
export const POD_CIDRS = { w1: '10.1.3.0/24', w2: '10.1.4.0/24' } as const;
export const CLUSTER_CIDRS = ['10.1.0.0/16', '10.96.0.0/16'];

export interface EgressCluster {
  topo: Topology;
  api: ApiServer;
  kc: KubeConfig;
  kubeconfigPath: string;
  style: CniStyle;
  /** Create a pod namespace with a veth into `node`, and its Pod object (status as a kubelet;
   * `status: false` leaves the status for the caller to write with setPodIp; `ownerReferences`
   * are set at creation, as a ReplicaSet's pods have them). */
  addPod(
    name: string,
    node: 'w1' | 'w2',
    ip: string,
    labels: Record<string, string>,
    apiNamespace?: string,
    options?: { status?: boolean; ownerReferences?: V1OwnerReference[] },
  ): Promise<Host>;
  /** Packets fw has seen per source address. */
  fwSources(): Promise<Map<string, number>>;
}

export async function buildEgressCluster(run: TestRun, style: CniStyle): Promise<EgressCluster> {
  const topo = await buildTopology(run, {
    hosts: {
      api: {},
      router: { forwarding: true },
      fw: {},
      gw1: { forwarding: true },
      gw2: { forwarding: true },
      w1: { forwarding: true },
      w2: { forwarding: true },
    },
    links: [{ a: { host: 'router', address: '10.99.50.1/24' }, b: { host: 'fw', address: `${FW}/24` } }],
    lans: [
      {
        name: 'east',
        members: [
          { host: 'api', address: '10.99.10.10/24', ifname: 'lan0' },
          { host: 'router', address: '10.99.10.1/24', ifname: 'lan0' },
          ...Object.entries(NODES).map(([host, a]) => ({ host, address: `${a}/24`, ifname: 'lan0' })),
        ],
      },
    ],
    routes: [
      { host: 'fw', to: 'default', via: '10.99.50.1' },
      ...Object.keys(NODES).map((host) => ({ host, to: 'default', via: '10.99.10.1' })),
      // host-gw: every node routes each worker's pod CIDR to that worker.
      ...Object.keys(NODES).flatMap((host) =>
        (['w1', 'w2'] as const)
          .filter((w) => w !== host)
          .map((w) => ({ host, to: POD_CIDRS[w], via: NODES[w] })),
      ),
      ...(style === 'routed'
        ? (['w1', 'w2'] as const).map((w) => ({ host: 'router', to: POD_CIDRS[w], via: NODES[w] }))
        : []),
    ],
  });
  if (style === 'masquerade') {
    for (const w of ['w1', 'w2'])
      await topo.host(w).exec(['nft', '-f', '-'], {
        input: [
          'table ip cni {',
          '  chain postrouting {',
          '    type nat hook postrouting priority srcnat; policy accept;',
          '    ip saddr 10.1.0.0/16 ip daddr != { 10.1.0.0/16, 10.96.0.0/16 } masquerade',
          '  }',
          '}',
        ].join('\n'),
      });
  }
  await topo.host('fw').exec(['nft', '-f', '-'], {
    input: [
      'table inet fw {',
      '  set sources { type ipv4_addr; size 65535; flags dynamic; counter; }',
      '  chain pre {',
      '    type filter hook prerouting priority -300; policy accept;',
      '    iifname "to-router" update @sources { ip saddr }',
      '  }',
      '}',
    ].join('\n'),
  });
  const etcd = await startEtcd(run, topo.host('api'));
  // No kube-controller-manager: its node lifecycle controller would mark our kubelet-less Nodes
  // NotReady after 40 s; Node readiness is what the tests set.
  const api = await startApiServer(run, {
    name: 'egress',
    host: topo.host('api'),
    etcd,
    address: '10.99.10.10',
    controllerManager: false,
  });
  const kc = api.kubeConfig();
  await deployEgressCrds(api);
  await createNamespace(kc, 'moor-egress');
  await createNamespace(kc, 'shop', { team: 'shop' });
  for (const [name, address] of Object.entries(NODES))
    await createNode(kc, name, address, name.startsWith('gw') ? { 'egress.moor.io/gateway': 'east' } : {});
  const kubeconfigPath = join(run.dir, 'egress.kubeconfig');
  writeFileSync(kubeconfigPath, api.kubeConfigYaml(), { mode: 0o600 });

  let podCount = 0;
  const addPod: EgressCluster['addPod'] = async (
    name,
    node,
    ip,
    labels,
    apiNamespace = 'shop',
    options = {},
  ) => {
    const pod = new Host(run, `pod-${name}`);
    await exec(['ip', 'netns', 'add', pod.ns]);
    run.defer(() => void exec(['ip', 'netns', 'del', pod.ns]).catch(() => undefined));
    topo.hosts.set(pod.name, pod);
    podCount++;
    const a = run.ifName('p');
    const b = run.ifName('p');
    const nodeHost = topo.host(node);
    const nodeIf = `pod${podCount}`;
    await exec(['ip', 'link', 'add', a, 'type', 'veth', 'peer', 'name', b]);
    await exec(['ip', 'link', 'set', a, 'netns', pod.ns]);
    await exec(['ip', 'link', 'set', b, 'netns', nodeHost.ns]);
    await pod.exec(['ip', 'link', 'set', a, 'name', 'eth0']);
    await pod.exec(['ip', 'link', 'set', 'lo', 'up']);
    await pod.exec(['ip', 'link', 'set', 'eth0', 'up']);
    await pod.exec(['ip', 'addr', 'add', `${ip}/32`, 'dev', 'eth0']);
    await pod.exec(['ip', 'route', 'add', 'default', 'dev', 'eth0', 'scope', 'link']);
    await nodeHost.exec(['ip', 'link', 'set', b, 'name', nodeIf]);
    await nodeHost.exec(['sysctl', '-q', '-w', `net.ipv4.conf.${nodeIf}.proxy_arp=1`]);
    await nodeHost.exec(['ip', 'link', 'set', nodeIf, 'up']);
    await nodeHost.exec(['ip', 'route', 'add', `${ip}/32`, 'dev', nodeIf]);
    await createPod(
      kc,
      apiNamespace,
      name,
      labels,
      node,
      options.status === false ? undefined : ip,
      options.ownerReferences,
    );
    return pod;
  };

  const fwSources = async () => {
    const { stdout } = await topo.host('fw').exec(['nft', '-j', 'list', 'set', 'inet', 'fw', 'sources']);
    const out = new Map<string, number>();
    const items = (JSON.parse(stdout) as { nftables: { set?: { elem?: unknown[] } }[] }).nftables;
    for (const it of items)
      for (const e of it.set?.elem ?? []) {
        const el = (e as { elem?: { val: string; counter?: { packets: number } } }).elem;
        if (el) out.set(el.val, el.counter?.packets ?? 0);
      }
    return out;
  };
  return { topo, api, kc, kubeconfigPath, style, addPod, fwSources };
}
