// The one reader of the egress API objects (EgressGateway, EgressPolicy) and of the Pod, Node and
// Namespace fields egress needs: plain JSON in, planner inputs out. The controller, the node
// agent, the gateway and `moor egress` all read through here, so they can never disagree.
// The CRD schema refuses most bad input; this reader still never trusts shape or types, and an
// object it cannot use is returned as a problem instead of throwing.
import type {
  Destination,
  GatewayInput,
  IngressPort,
  IpRange,
  LabelSelector,
  LabelSelectorRequirement,
  NamespaceInput,
  NodeInput,
  PlannedCondition,
  PodInput,
  PolicyInput,
} from './egress-types.ts';

export { EGRESS_GROUP, EGRESS_VERSION } from '../k8s/egress-paths.ts';

export interface ObjectMeta {
  name: string;
  uid?: string;
  resourceVersion?: string;
  generation?: number;
}

export interface StoredCondition extends PlannedCondition {
  lastTransitionTime: string;
  observedGeneration?: number;
}

export interface PolicyStatus {
  observedGeneration?: number;
  ips?: string[];
  activeNode?: string;
  selectedPods?: number;
  conditions?: StoredCondition[];
  /** The ACL mapping's summary (status.mapping), written by the controller. */
  mapping?: PolicyMappingStatus;
}

/** status.mapping: a list per IP, not a map, so a merge patch replaces it whole. */
export interface PolicyMappingStatus {
  mappedPods: number;
  podsWithIP: number;
  slices: number;
  workloadCount: number;
  /** `Kind/namespace/name`, sorted, the first 20. */
  workloads: string[];
  ips: { ip: string; pods: number }[];
}

export interface GatewayStatus {
  observedGeneration?: number;
  activeNode?: string;
  readyNodes?: string[];
  readyNodeCount?: number;
  allocatedCount?: number;
  freeCount?: number;
  conditions?: StoredCondition[];
}

export type ReadResult<T> = { ok: true; value: T } | { ok: false; name: string; problem: string };

type Json = Record<string, unknown>;
const isObj = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
const strings = (v: unknown): string[] =>
  Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];
const int = (v: unknown): number | undefined =>
  typeof v === 'number' && Number.isInteger(v) ? v : undefined;
const labels = (v: unknown): Record<string, string> => {
  const out: Record<string, string> = {};
  if (isObj(v)) for (const [k, x] of Object.entries(v)) if (typeof x === 'string') out[k] = x;
  return out;
};

export function readMeta(o: unknown): ObjectMeta | undefined {
  if (!isObj(o) || !isObj(o.metadata)) return undefined;
  const name = str(o.metadata.name);
  if (!name) return undefined;
  const m: ObjectMeta = { name };
  const uid = str(o.metadata.uid);
  const rv = str(o.metadata.resourceVersion);
  const gen = int(o.metadata.generation);
  if (uid !== undefined) m.uid = uid;
  if (rv !== undefined) m.resourceVersion = rv;
  if (gen !== undefined) m.generation = gen;
  return m;
}

function readSelector(v: unknown): LabelSelector | undefined {
  if (!isObj(v)) return undefined;
  const s: LabelSelector = {};
  if (isObj(v.matchLabels)) s.matchLabels = labels(v.matchLabels);
  if (Array.isArray(v.matchExpressions)) {
    s.matchExpressions = v.matchExpressions.filter(isObj).map((e) => {
      const r: LabelSelectorRequirement = {
        key: str(e.key) ?? '',
        operator: (str(e.operator) ?? 'In') as LabelSelectorRequirement['operator'],
      };
      if (Array.isArray(e.values)) r.values = strings(e.values);
      return r;
    });
  }
  return s;
}

export function readGateway(o: unknown): ReadResult<GatewayInput> {
  const meta = readMeta(o);
  if (!meta) return { ok: false, name: '?', problem: 'EgressGateway without metadata.name' };
  const spec = isObj(o) && isObj((o as Json).spec) ? ((o as Json).spec as Json) : undefined;
  const bad = (problem: string): ReadResult<GatewayInput> => ({ ok: false, name: meta.name, problem });
  if (!spec) return bad('no spec');
  const pool = isObj(spec.pool) ? spec.pool : {};
  const iface = str(spec.interface);
  const subnet = str(spec.subnet);
  const floatingIP = str(spec.floatingIP);
  const vni = int(spec.vni);
  if (!iface || !subnet || !floatingIP || vni === undefined)
    return bad('spec.interface, spec.subnet, spec.floatingIP and spec.vni are required');
  const ranges: IpRange[] = Array.isArray(pool.ranges)
    ? pool.ranges.filter(isObj).map((r) => ({ start: str(r.start) ?? '', end: str(r.end) ?? '' }))
    : [];
  const g: GatewayInput = {
    name: meta.name,
    nodeSelector: readSelector(spec.nodeSelector) ?? {
      matchLabels: { 'egress.moor.io/no-selector': 'true' },
    },
    pool: { cidrs: strings(pool.cidrs), ranges, exclude: strings(pool.exclude) },
    interface: iface,
    subnet,
    floatingIP,
    vni,
    vxlanPort: int(spec.vxlanPort) ?? 4789,
  };
  if (meta.generation !== undefined) g.generation = meta.generation;
  return { ok: true, value: g };
}

export function readPolicy(o: unknown): ReadResult<PolicyInput> {
  const meta = readMeta(o);
  if (!meta) return { ok: false, name: '?', problem: 'EgressPolicy without metadata.name' };
  const spec = isObj(o) && isObj((o as Json).spec) ? ((o as Json).spec as Json) : undefined;
  const bad = (problem: string): ReadResult<PolicyInput> => ({ ok: false, name: meta.name, problem });
  if (!spec) return bad('no spec');
  const gateway = str(spec.gateway);
  if (!gateway) return bad('spec.gateway is required');
  const destinations: Destination[] = Array.isArray(spec.destinations)
    ? spec.destinations.filter(isObj).map((d) => ({ cidr: str(d.cidr) ?? '', except: strings(d.except) }))
    : [];
  if (destinations.length === 0) return bad('spec.destinations is empty');
  const status = readPolicyStatus(o);
  const p: PolicyInput = {
    name: meta.name,
    destinations,
    gateway,
    priority: int(spec.priority) ?? 0,
    failurePolicy: spec.failurePolicy === 'Open' ? 'Open' : 'Closed',
    statusIPs: status.ips ?? [],
  };
  const ns = readSelector(spec.namespaceSelector);
  const pod = readSelector(spec.podSelector);
  if (ns) p.namespaceSelector = ns;
  if (pod) p.podSelector = pod;
  if (spec.ingress !== undefined) {
    const r = readIngress(spec.ingress);
    if (r.ok) p.ingress = { ports: r.ports };
    else p.ingressProblem = r.problem;
  }
  if (Array.isArray(spec.ips)) p.ips = strings(spec.ips);
  else if (int(spec.count) !== undefined) p.count = int(spec.count) as number;
  if (meta.generation !== undefined) p.generation = meta.generation;
  return { ok: true, value: p };
}

/** spec.ingress, all or nothing: one bad port refuses the whole section (the CRD's CEL refuses
 * the same input; this is the reader's own check for objects that bypassed it). */
function readIngress(v: unknown): { ok: true; ports: IngressPort[] } | { ok: false; problem: string } {
  if (!isObj(v) || !Array.isArray(v.ports) || v.ports.length === 0)
    return { ok: false, problem: 'spec.ingress.ports must list at least one port' };
  const ports: IngressPort[] = [];
  const seen = new Set<string>();
  for (const [i, raw] of v.ports.entries()) {
    if (!isObj(raw)) return { ok: false, problem: `spec.ingress.ports[${i}] is not an object` };
    const port = int(raw.port);
    const protocol = raw.protocol === undefined ? 'TCP' : raw.protocol;
    const targetPort = raw.targetPort === undefined ? port : int(raw.targetPort);
    const inRange = (n: number | undefined) => n !== undefined && n >= 1 && n <= 65535;
    if (!inRange(port) || !inRange(targetPort))
      return { ok: false, problem: `spec.ingress.ports[${i}]: port and targetPort must be 1-65535` };
    if (protocol !== 'TCP' && protocol !== 'UDP')
      return { ok: false, problem: `spec.ingress.ports[${i}]: protocol must be TCP or UDP` };
    const key = `${protocol}/${port}`;
    if (seen.has(key)) return { ok: false, problem: `spec.ingress.ports lists ${key} twice` };
    seen.add(key);
    ports.push({ port: port as number, protocol, targetPort: targetPort as number });
  }
  return { ok: true, ports };
}

function readConditions(v: unknown): StoredCondition[] {
  if (!Array.isArray(v)) return [];
  return v.filter(isObj).map((c) => {
    const s: StoredCondition = {
      type: str(c.type) ?? '',
      status: c.status === 'True' ? 'True' : c.status === 'False' ? 'False' : 'Unknown',
      reason: str(c.reason) ?? '',
      message: str(c.message) ?? '',
      lastTransitionTime: str(c.lastTransitionTime) ?? '',
    };
    const g = int(c.observedGeneration);
    if (g !== undefined) s.observedGeneration = g;
    return s;
  });
}

export function readPolicyStatus(o: unknown): PolicyStatus {
  const s = isObj(o) && isObj((o as Json).status) ? ((o as Json).status as Json) : {};
  const out: PolicyStatus = { ips: strings(s.ips), conditions: readConditions(s.conditions) };
  if (int(s.observedGeneration) !== undefined) out.observedGeneration = int(s.observedGeneration) as number;
  if (str(s.activeNode)) out.activeNode = str(s.activeNode) as string;
  if (int(s.selectedPods) !== undefined) out.selectedPods = int(s.selectedPods) as number;
  const m = readMappingStatus(s.mapping);
  if (m) out.mapping = m;
  return out;
}

function readMappingStatus(v: unknown): PolicyMappingStatus | undefined {
  if (!isObj(v)) return undefined;
  const n = (x: unknown) => int(x) ?? 0;
  return {
    mappedPods: n(v.mappedPods),
    podsWithIP: n(v.podsWithIP),
    slices: n(v.slices),
    workloadCount: n(v.workloadCount),
    workloads: strings(v.workloads),
    ips: (Array.isArray(v.ips) ? v.ips : [])
      .filter(isObj)
      .map((e) => ({ ip: str(e.ip) ?? '', pods: n(e.pods) })),
  };
}

export function readGatewayStatus(o: unknown): GatewayStatus {
  const s = isObj(o) && isObj((o as Json).status) ? ((o as Json).status as Json) : {};
  const out: GatewayStatus = { conditions: readConditions(s.conditions), readyNodes: strings(s.readyNodes) };
  if (int(s.observedGeneration) !== undefined) out.observedGeneration = int(s.observedGeneration) as number;
  if (str(s.activeNode)) out.activeNode = str(s.activeNode) as string;
  for (const k of ['readyNodeCount', 'allocatedCount', 'freeCount'] as const)
    if (int(s[k]) !== undefined) out[k] = int(s[k]) as number;
  return out;
}

export function readNode(o: unknown): NodeInput | undefined {
  const meta = readMeta(o);
  if (!meta || !isObj(o)) return undefined;
  const md = (o as Json).metadata as Json;
  const status = isObj((o as Json).status) ? ((o as Json).status as Json) : {};
  const addresses = Array.isArray(status.addresses)
    ? status.addresses
        .filter(isObj)
        .filter((a) => a.type === 'InternalIP' || a.type === 'ExternalIP')
        .map((a) => str(a.address))
        .filter((a): a is string => a !== undefined)
    : [];
  const ready = Array.isArray(status.conditions)
    ? status.conditions.filter(isObj).some((c) => c.type === 'Ready' && c.status === 'True')
    : false;
  const node: NodeInput = { name: meta.name, labels: labels(md.labels), addresses, ready };
  const internal = Array.isArray(status.addresses)
    ? status.addresses.filter(isObj).find((a) => a.type === 'InternalIP')
    : undefined;
  const internalIP = internal ? str(internal.address) : undefined;
  if (internalIP) node.internalIP = internalIP;
  return node;
}

export function readNamespace(o: unknown): NamespaceInput | undefined {
  const meta = readMeta(o);
  if (!meta || !isObj(o)) return undefined;
  // kubernetes.io/metadata.name is set by the API server on every namespace; add it for older ones.
  return {
    name: meta.name,
    labels: { 'kubernetes.io/metadata.name': meta.name, ...labels(((o as Json).metadata as Json).labels) },
  };
}

export function readPod(o: unknown): PodInput | undefined {
  if (!isObj(o) || !isObj(o.metadata)) return undefined;
  const md = o.metadata as Json;
  const name = str(md.name);
  const namespace = str(md.namespace);
  if (!name || !namespace) return undefined;
  const spec = isObj(o.spec) ? o.spec : {};
  const status = isObj(o.status) ? o.status : {};
  const p: PodInput = { namespace, name, labels: labels(md.labels) };
  const ip = str(status.podIP);
  const node = str(spec.nodeName);
  const phase = str(status.phase);
  if (ip) p.ip = ip;
  if (node) p.node = node;
  if (phase) p.phase = phase;
  if (spec.hostNetwork === true) p.hostNetwork = true;
  const readyCondition = Array.isArray(status.conditions)
    ? status.conditions.filter(isObj).find((c) => c.type === 'Ready')
    : undefined;
  if (readyCondition && readyCondition.status !== 'True') p.ready = false;
  return p;
}
