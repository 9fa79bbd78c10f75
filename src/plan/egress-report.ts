// What `moor egress status` and `moor egress show` print, as plain data from the API objects:
// per policy its IPs, node and conditions, and per selected pod the egress IP it leaves from
// (resolved by the same resolvePods the node agents and gateways use).
import { isCandidatePod, resolvePods } from './egress-pods.ts';
import {
  type GatewayStatus,
  type PolicyStatus,
  readGateway,
  readGatewayStatus,
  readNamespace,
  readPod,
  readPolicy,
  readPolicyStatus,
} from './egress-read.ts';
import type { NamespaceInput, PodInput, PolicyInput } from './egress-types.ts';

export interface EgressReport {
  gateways: { name: string; floatingIP: string; vni: number; status: GatewayStatus }[];
  policies: {
    name: string;
    gateway: string;
    priority: number;
    failurePolicy: string;
    destinations: PolicyInput['destinations'];
    status: PolicyStatus;
    pods: {
      namespace: string;
      name: string;
      node: string | undefined;
      podIP: string | undefined;
      egressIP: string | undefined;
    }[];
  }[];
}

export function egressReport(objects: {
  gateways: readonly unknown[];
  policies: readonly unknown[];
  namespaces: readonly unknown[];
  pods: readonly unknown[];
}): EgressReport {
  const gateways: EgressReport['gateways'] = [];
  for (const raw of objects.gateways) {
    const r = readGateway(raw);
    if (r.ok)
      gateways.push({
        name: r.value.name,
        floatingIP: r.value.floatingIP,
        vni: r.value.vni,
        status: readGatewayStatus(raw),
      });
  }
  const policies: { input: PolicyInput; status: PolicyStatus }[] = [];
  for (const raw of objects.policies) {
    const r = readPolicy(raw);
    if (r.ok) policies.push({ input: r.value, status: readPolicyStatus(raw) });
  }
  const resolution = resolvePods({
    policies: policies.map((p) => ({ ...p.input, ips: p.status.ips ?? [] })),
    namespaces: objects.namespaces.map(readNamespace).filter((n): n is NamespaceInput => n !== undefined),
    pods: objects.pods.map(readPod).filter((p): p is PodInput => p !== undefined && isCandidatePod(p)),
  });
  return {
    gateways: gateways.sort((a, b) => (a.name < b.name ? -1 : 1)),
    policies: policies
      .sort((a, b) => (a.input.name < b.input.name ? -1 : 1))
      .map((p) => ({
        name: p.input.name,
        gateway: p.input.gateway,
        priority: p.input.priority,
        failurePolicy: p.input.failurePolicy,
        destinations: p.input.destinations,
        status: p.status,
        pods: resolution.assignments
          .filter((a) => a.policy === p.input.name)
          .map((a) => ({
            namespace: a.namespace,
            name: a.name,
            node: a.node,
            podIP: a.podIP,
            egressIP: a.egressIP,
          })),
      })),
  };
}
