// The node agent's snapshot → planner input, as a pure function: which of the cluster's objects
// matter on this node. Pod resolution only needs this node's pods (a pod's policy depends on the
// pod and the policies, never on other pods), so the node agent decides exactly as the
// controller does.
import type { KubeObject } from '../k8s/reflector.ts';
import { nodeVxlanMac } from '../plan/egress-names.ts';
import type { NodeEgressInput } from '../plan/egress-node.ts';
import { isCandidatePod, resolvePods } from '../plan/egress-pods.ts';
import { readGateway, readGatewayStatus, readNamespace, readPod, readPolicy } from '../plan/egress-read.ts';
import type { NamespaceInput, PodInput, PolicyInput } from '../plan/egress-types.ts';

export interface NodeAgentConfig {
  nodeName: string;
  underlayDevice: string;
  clusterCidrs: string[];
  /** Overrides the Node's spec.podCIDRs. */
  podCidrs: string[];
}

export function nodeEgressInput(
  config: NodeAgentConfig,
  underlayMtu: number,
  snapshot: {
    gateways: KubeObject[];
    policies: KubeObject[];
    namespaces: KubeObject[];
    pods: KubeObject[];
    nodes: KubeObject[];
  },
): NodeEgressInput {
  const groups = [];
  for (const raw of snapshot.gateways) {
    const r = readGateway(raw);
    if (!r.ok) continue;
    const ready = readGatewayStatus(raw).conditions?.find((c) => c.type === 'Ready')?.status === 'True';
    groups.push({
      name: r.value.name,
      floatingIP: r.value.floatingIP,
      vni: r.value.vni,
      vxlanPort: r.value.vxlanPort ?? 4789,
      usable: ready,
    });
  }
  const policies: PolicyInput[] = [];
  for (const raw of snapshot.policies) {
    const r = readPolicy(raw);
    if (r.ok) policies.push(r.value);
  }
  const local = snapshot.pods
    .map(readPod)
    .filter((p): p is PodInput => p !== undefined && p.node === config.nodeName && isCandidatePod(p));
  const namespaces = snapshot.namespaces
    .map(readNamespace)
    .filter((n): n is NamespaceInput => n !== undefined);
  const resolution = resolvePods({
    policies: policies.map((p) => ({ ...p, ips: p.statusIPs })),
    namespaces,
    pods: local,
  });
  let podCidrs = config.podCidrs;
  if (podCidrs.length === 0) {
    const me = snapshot.nodes.find((n) => n.metadata?.name === config.nodeName) as
      | { spec?: { podCIDRs?: unknown; podCIDR?: unknown } }
      | undefined;
    const list = me?.spec?.podCIDRs;
    podCidrs = Array.isArray(list)
      ? list.filter((c): c is string => typeof c === 'string' && !c.includes(':'))
      : typeof me?.spec?.podCIDR === 'string'
        ? [me.spec.podCIDR]
        : [];
  }
  return {
    underlayDevice: config.underlayDevice,
    underlayMtu,
    clusterCidrs: config.clusterCidrs,
    localPodCidrs: podCidrs,
    groups,
    policies: policies.map((p) => ({
      name: p.name,
      gateway: p.gateway,
      failurePolicy: p.failurePolicy,
      destinations: p.destinations,
    })),
    assignments: resolution.assignments,
    knownPodIPs: local.map((p) => p.ip).filter((ip): ip is string => ip !== undefined),
    vxlanMac: nodeVxlanMac(config.nodeName),
  };
}
