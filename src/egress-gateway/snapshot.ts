// Which groups this gateway node serves, and everything their nft state needs, from the
// cluster snapshot (pure).
import type { KubeObject } from '../k8s/reflector.ts';
import type { GatewayGroupInput } from '../plan/egress-gateway.ts';
import { planIngress } from '../plan/egress-ingress.ts';
import { isCandidatePod, resolvePods } from '../plan/egress-pods.ts';
import { readGateway, readNamespace, readNode, readPod, readPolicy } from '../plan/egress-read.ts';
import { matchesSelector } from '../plan/egress-selector.ts';
import type { GatewayInput, NamespaceInput, NodeInput, PodInput, PolicyInput } from '../plan/egress-types.ts';

export function servedGroups(
  nodeName: string,
  snapshot: { gateways: KubeObject[]; nodes: KubeObject[] },
): GatewayInput[] {
  const me = snapshot.nodes.map(readNode).find((n) => n?.name === nodeName);
  if (!me) return [];
  const out: GatewayInput[] = [];
  for (const raw of snapshot.gateways) {
    const r = readGateway(raw);
    if (r.ok && matchesSelector(r.value.nodeSelector, me.labels)) out.push(r.value);
  }
  return out;
}

export function gatewayGroupInputs(
  groups: readonly GatewayInput[],
  active: ReadonlySet<string>,
  snapshot: { policies: KubeObject[]; namespaces: KubeObject[]; pods: KubeObject[]; nodes?: KubeObject[] },
  allGateways: readonly GatewayInput[] = groups,
): GatewayGroupInput[] {
  const policies: PolicyInput[] = [];
  for (const raw of snapshot.policies) {
    const r = readPolicy(raw);
    if (r.ok) policies.push(r.value);
  }
  const namespaces = snapshot.namespaces
    .map(readNamespace)
    .filter((n): n is NamespaceInput => n !== undefined);
  const pods = snapshot.pods.map(readPod).filter((p): p is PodInput => p !== undefined && isCandidatePod(p));
  // All policies take part in resolution: a pod of this group's policy may be claimed by a
  // policy of another group with a higher priority.
  const resolution = resolvePods({
    policies: policies.map((p) => ({ ...p, ips: p.statusIPs })),
    namespaces,
    pods,
  });
  // The same function the controller writes the Ingress condition with, on the same objects.
  const ingress = planIngress({
    policies: policies.map((p) => ({ ...p, ips: p.statusIPs })),
    gateways: allGateways,
    assignments: resolution.assignments,
    pods,
    nodes: (snapshot.nodes ?? []).map(readNode).filter((n): n is NodeInput => n !== undefined),
  });
  return groups.map((gateway) => {
    const mine = new Set(policies.filter((p) => p.gateway === gateway.name).map((p) => p.name));
    return {
      gateway,
      egressIPs: [...new Set(policies.filter((p) => mine.has(p.name)).flatMap((p) => p.statusIPs))],
      assignments: resolution.assignments.filter((a) => mine.has(a.policy)),
      active: active.has(gateway.name),
      ingress: ingress.entries.filter((e) => mine.has(e.policy)),
    };
  });
}
