// Inbound on the egress IP (spec.ingress), as a pure function: which (egress IP, protocol, port)
// goes to which pods, and the policy's Ingress condition. The gateway renders the entries into
// DNAT rules; the controller writes the conditions. Both call this one function on the same
// objects, so what the status says is what the gateways do.
//
// Targets are the policy's own selected pods (resolvePods), with an address, not reporting
// NotReady, on a node with an InternalIP that is not one of the group's gateway nodes (those run
// no node agent, so nothing would route their replies back through the tunnel). Sorted by
// namespace/name: every gateway of the group builds the same list, and the DNAT's fixed-seed
// hash over the client's address and port then picks the same pod for the same flow.
import type { PodAssignment } from './egress-pods.ts';
import { matchesSelector } from './egress-selector.ts';
import {
  compareNames,
  type GatewayInput,
  type IngressProtocol,
  type NodeInput,
  type PlannedCondition,
  type PodInput,
  type PolicyInput,
  podKey,
} from './egress-types.ts';

export interface IngressTarget {
  /** namespace/name */
  pod: string;
  podIP: string;
  node: string;
  /** The node's InternalIP: the VXLAN remote the gateway sends to. */
  nodeIP: string;
}

export interface IngressEntry {
  policy: string;
  gateway: string;
  egressIP: string;
  protocol: IngressProtocol;
  port: number;
  targetPort: number;
  /** Never empty: a port without a ready pod gets no DNAT (its packets meet the input drop). */
  targets: IngressTarget[];
}

export interface IngressPlan {
  /** Sorted by egress IP, protocol, port. */
  entries: IngressEntry[];
  /** The `Ingress` condition of every policy with a spec.ingress section. */
  conditions: Record<string, PlannedCondition>;
}

export type IngressPolicy = Pick<PolicyInput, 'name' | 'gateway' | 'ingress' | 'ingressProblem'> & {
  /** The policy's egress IPs (allocated). */
  ips: readonly string[];
};

export function planIngress(input: {
  policies: readonly IngressPolicy[];
  gateways: readonly GatewayInput[];
  assignments: readonly PodAssignment[];
  pods: readonly PodInput[];
  nodes: readonly NodeInput[];
}): IngressPlan {
  const gateways = new Map(input.gateways.map((g) => [g.name, g]));
  const nodes = new Map(input.nodes.map((n) => [n.name, n]));
  const notReady = new Set(input.pods.filter((p) => p.ready === false).map(podKey));
  const conditions: Record<string, PlannedCondition> = {};
  const entries: IngressEntry[] = [];
  const claimed = new Map<string, string>(); // "ip proto/port" → policy
  const bad = (name: string, reason: string, message: string) => {
    conditions[name] = { type: 'Ingress', status: 'False', reason, message };
  };
  for (const p of [...input.policies].sort((a, b) => compareNames(a.name, b.name))) {
    if (p.ingressProblem !== undefined) {
      bad(p.name, 'InvalidIngress', `${p.ingressProblem}; no inbound rule is programmed`);
      continue;
    }
    if (!p.ingress) continue;
    const gateway = gateways.get(p.gateway);
    if (!gateway) {
      bad(p.name, 'GatewayNotFound', `EgressGateway ${p.gateway} does not exist`);
      continue;
    }
    if (p.ips.length === 0) {
      bad(p.name, 'NoIPs', 'inbound needs an egress IP and the policy has none (see IPsAllocated)');
      continue;
    }
    const keys = p.ips.flatMap((ip) => p.ingress?.ports.map((q) => `${ip} ${q.protocol}/${q.port}`) ?? []);
    const taken = keys.find((k) => claimed.has(k));
    if (taken !== undefined) {
      // All or nothing: a policy never gets half of its ports.
      bad(p.name, 'PortConflict', `${taken} is already taken by policy ${claimed.get(taken)}`);
      continue;
    }
    for (const k of keys) claimed.set(k, p.name);
    const targets: IngressTarget[] = [];
    for (const a of input.assignments) {
      if (a.policy !== p.name || a.podIP === undefined || a.node === undefined) continue;
      if (notReady.has(podKey(a))) continue;
      const node = nodes.get(a.node);
      if (!node?.internalIP || matchesSelector(gateway.nodeSelector, node.labels)) continue;
      targets.push({ pod: podKey(a), podIP: a.podIP, node: node.name, nodeIP: node.internalIP });
    }
    targets.sort((x, y) => compareNames(x.pod, y.pod));
    const ports = p.ingress.ports.map((q) => `${q.protocol}/${q.port}`).join(', ');
    if (targets.length === 0) {
      bad(p.name, 'NoReadyPods', `no ready selected pod on a node with a node agent to receive ${ports}`);
      continue;
    }
    conditions[p.name] = {
      type: 'Ingress',
      status: 'True',
      reason: 'Ready',
      message: `${ports} on ${[...p.ips].sort().join(', ')} → ${targets.length} pod(s)`,
    };
    for (const ip of p.ips)
      for (const q of p.ingress.ports)
        entries.push({
          policy: p.name,
          gateway: p.gateway,
          egressIP: ip,
          protocol: q.protocol,
          port: q.port,
          targetPort: q.targetPort,
          targets,
        });
  }
  entries.sort(
    (a, b) => compareNames(a.egressIP, b.egressIP) || compareNames(a.protocol, b.protocol) || a.port - b.port,
  );
  return { entries, conditions };
}
