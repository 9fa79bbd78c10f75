// Egress IP allocation, a pure function of the gateways, the policies (with the IPs their status
// already records) and the nodes. Rules, in the order they decide:
//   1. Reserved addresses are never handed out: every node address and every floating IP.
//   2. An IP a policy already holds (status.ips) stays with it while it is still valid for that
//      policy: inside its gateway's usable pool, not reserved, still wanted (a fixed IP still
//      listed, or within `count`). This is what makes allocations sticky across controller
//      restarts, failovers and unrelated edits: the status is the memory, nothing else.
//   3. A fixed IP requested in spec.ips goes to its requester unless another policy holds it.
//   4. Policies that want more IPs get the lowest free ones of their pool, in policy name order.
//      Addresses where two gateways' pools overlap are never newly handed out.
// Contested IPs go to a holder first, then a fixed request, then the name that sorts first; so
// the result never depends on input order, and no IP ever goes to two policies.
// A policy whose gateway is missing keeps what it holds (untouched, still reserved), so
// recreating the gateway gives the same IPs back.
import { formatIpv4, tryParseIpv4 } from '../net/ipv4.ts';
import { firstFree, type Interval, includes, intersect, size, subtract } from './egress-intervals.ts';
import { describeInterval, type ParsedPool, parsePool } from './egress-pool.ts';
import { matchesSelector } from './egress-selector.ts';
import {
  compareNames,
  type GatewayInput,
  type NodeInput,
  type PlannedCondition,
  type PolicyInput,
} from './egress-types.ts';

export const DEFAULT_IP_COUNT = 1;

export interface AllocationInput {
  gateways: readonly GatewayInput[];
  policies: readonly PolicyInput[];
  nodes: readonly NodeInput[];
}

export interface PolicyAllocation {
  /** Held IPs first in their status order, then new ones in address order. */
  ips: string[];
  /** The gateway exists and is usable (valid configuration, at least one ready node). */
  gatewayUsable: boolean;
  conditions: PlannedCondition[];
}

export interface GatewayAllocation {
  /** Nodes its nodeSelector selects, and those of them that are Ready. */
  nodes: string[];
  readyNodes: string[];
  allocatedCount: number;
  freeCount: number;
  usable: boolean;
  conditions: PlannedCondition[];
}

export interface AllocationPlan {
  policies: Record<string, PolicyAllocation>;
  gateways: Record<string, GatewayAllocation>;
}

interface Claim {
  policy: string;
  holds: boolean;
  fixed: boolean;
}

export function planAllocations(input: AllocationInput): AllocationPlan {
  const gateways = [...input.gateways].sort((a, b) => compareNames(a.name, b.name));
  const policies = [...input.policies].sort((a, b) => compareNames(a.name, b.name));
  const nodes = [...input.nodes].sort((a, b) => compareNames(a.name, b.name));

  const nodeAddresses = new Map<number, string>();
  for (const n of nodes)
    for (const a of n.addresses) {
      const parsed = tryParseIpv4(a);
      if (parsed.ok && !nodeAddresses.has(parsed.value)) nodeAddresses.set(parsed.value, n.name);
    }

  const pools = new Map<string, ParsedPool>();
  for (const g of gateways) pools.set(g.name, parsePool(g));
  const floatingIPs = new Map<number, string>();
  for (const g of gateways) {
    const f = pools.get(g.name)?.floatingIP;
    if (f !== undefined && !floatingIPs.has(f)) floatingIPs.set(f, g.name);
  }
  const reservedReason = (a: number): string | undefined => {
    const node = nodeAddresses.get(a);
    if (node !== undefined) return `${formatIpv4(a)} is an address of node ${node}`;
    const gw = floatingIPs.get(a);
    if (gw !== undefined) return `${formatIpv4(a)} is the floating IP of gateway ${gw}`;
    return undefined;
  };

  // Overlaps between the pools of two gateways: never newly allocated, reported on both.
  const overlapOf = new Map<string, Interval[]>();
  const overlapNotes = new Map<string, string[]>();
  for (let i = 0; i < gateways.length; i++)
    for (let j = i + 1; j < gateways.length; j++) {
      const a = gateways[i] as GatewayInput;
      const b = gateways[j] as GatewayInput;
      const common = intersect(pools.get(a.name)?.usable ?? [], pools.get(b.name)?.usable ?? []);
      if (common.length === 0) continue;
      const what = common.map(describeInterval).join(', ');
      for (const [self, other] of [
        [a.name, b.name],
        [b.name, a.name],
      ] as const) {
        overlapOf.set(self, [...(overlapOf.get(self) ?? []), ...common]);
        overlapNotes.set(self, [
          ...(overlapNotes.get(self) ?? []),
          `pool overlaps gateway ${other} at ${what}`,
        ]);
      }
    }

  const vniOwner = new Map<number, string>();
  for (const g of gateways) if (!vniOwner.has(g.vni)) vniOwner.set(g.vni, g.name);

  const gatewayOut: Record<string, GatewayAllocation> = {};
  for (const g of gateways) {
    const pool = pools.get(g.name) as ParsedPool;
    const selected = nodes.filter((n) => matchesSelector(g.nodeSelector, n.labels));
    const ready = selected.filter((n) => n.ready).map((n) => n.name);
    const problems = [...pool.problems];
    let configValid = pool.subnet !== undefined && pool.floatingIP !== undefined;
    if (pool.floatingIP !== undefined && nodeAddresses.has(pool.floatingIP)) {
      problems.push(`floatingIP ${g.floatingIP} is an address of node ${nodeAddresses.get(pool.floatingIP)}`);
      configValid = false;
    }
    const firstWithFloating = pool.floatingIP === undefined ? undefined : floatingIPs.get(pool.floatingIP);
    if (firstWithFloating !== undefined && firstWithFloating !== g.name) {
      problems.push(`floatingIP ${g.floatingIP} is also the floating IP of gateway ${firstWithFloating}`);
      configValid = false;
    }
    const vniFirst = vniOwner.get(g.vni);
    if (vniFirst !== g.name) {
      problems.push(`vni ${g.vni} is already used by gateway ${vniFirst}`);
      configValid = false;
    }
    gatewayOut[g.name] = {
      nodes: selected.map((n) => n.name),
      readyNodes: ready,
      allocatedCount: 0,
      freeCount: 0,
      usable: configValid && ready.length > 0,
      conditions: [],
    };
    const overlap = overlapNotes.get(g.name) ?? [];
    const conditions = gatewayOut[g.name]?.conditions as PlannedCondition[];
    conditions.push(
      problems.length > 0
        ? {
            type: 'ConfigValid',
            status: 'False',
            reason: reasonForGatewayProblem(problems[0] as string),
            message: problems.join('; '),
          }
        : {
            type: 'ConfigValid',
            status: 'True',
            reason: 'Valid',
            message: 'pool, subnet, floating IP and VNI are valid',
          },
    );
    conditions.push(
      overlap.length > 0
        ? {
            type: 'PoolOverlap',
            status: 'True',
            reason: 'PoolOverlap',
            message: `${overlap.join('; ')}; overlapping addresses are not newly allocated`,
          }
        : {
            type: 'PoolOverlap',
            status: 'False',
            reason: 'NoOverlap',
            message: 'the pool overlaps no other gateway',
          },
    );
  }

  // Who wants which IP.
  const claims = new Map<number, Claim[]>();
  const notes = new Map<string, string[]>();
  const note = (p: string, reason: string, message: string) =>
    notes.set(p, [...(notes.get(p) ?? []), `${reason}: ${message}`]);
  const usableFor = (p: PolicyInput, a: number): string | undefined => {
    const pool = pools.get(p.gateway);
    if (!pool) return undefined; // missing gateway: holdings are kept untouched
    if (!includes(pool.usable, a)) return `${formatIpv4(a)} is not in the pool of gateway ${p.gateway}`;
    return reservedReason(a);
  };
  const addClaim = (a: number, c: Claim) => claims.set(a, [...(claims.get(a) ?? []), c]);
  for (const p of policies) {
    const held = parseAll(p.statusIPs);
    const wanted = p.ips === undefined ? undefined : parseAll(p.ips);
    if (!pools.has(p.gateway)) {
      // Missing gateway: keep exactly what is held (still wanted), claim nothing new.
      const keep = wanted
        ? held.filter((a) => wanted.includes(a))
        : held.slice(0, p.count ?? DEFAULT_IP_COUNT);
      for (const a of keep) addClaim(a, { policy: p.name, holds: true, fixed: wanted !== undefined });
    } else if (wanted) {
      for (const a of wanted) {
        const why = usableFor(p, a);
        if (why !== undefined) note(p.name, 'RequestedIPUnusable', why);
        else addClaim(a, { policy: p.name, holds: held.includes(a), fixed: true });
      }
      for (const text of p.ips ?? [])
        if (!tryParseIpv4(text).ok) note(p.name, 'RequestedIPUnusable', `"${text}" is not an IPv4 address`);
    } else {
      const count = p.count ?? DEFAULT_IP_COUNT;
      let kept = 0;
      for (const a of held) {
        if (kept >= count) break;
        const why = usableFor(p, a);
        if (why !== undefined) {
          note(p.name, 'HeldIPReleased', `${why}; released`);
          continue;
        }
        addClaim(a, { policy: p.name, holds: true, fixed: false });
        kept++;
      }
    }
  }

  const owner = new Map<number, string>();
  for (const [a, list] of claims) {
    const sorted = [...list].sort(
      (x, y) =>
        Number(y.holds) - Number(x.holds) ||
        Number(y.fixed) - Number(x.fixed) ||
        compareNames(x.policy, y.policy),
    );
    const winner = sorted[0] as Claim;
    owner.set(a, winner.policy);
    for (const loser of sorted.slice(1))
      note(
        loser.policy,
        'RequestedIPTaken',
        `${formatIpv4(a)} is already allocated to policy ${winner.policy}`,
      );
  }

  // The IPs each policy ends up with, held ones in status order first.
  const result = new Map<string, number[]>();
  for (const p of policies) {
    const held = parseAll(p.statusIPs).filter((a) => owner.get(a) === p.name);
    const fixed =
      p.ips === undefined ? [] : parseAll(p.ips).filter((a) => owner.get(a) === p.name && !held.includes(a));
    result.set(p.name, [...held, ...fixed]);
  }
  // New allocations for count policies, in name order, lowest free address first.
  for (const p of policies) {
    if (p.ips !== undefined) continue;
    const pool = pools.get(p.gateway);
    if (!pool) continue;
    const mine = result.get(p.name) as number[];
    const count = p.count ?? DEFAULT_IP_COUNT;
    const overlap = overlapOf.get(p.gateway) ?? [];
    while (mine.length < count) {
      const a = firstFree(
        pool.usable,
        (x) => owner.has(x) || reservedReason(x) !== undefined || includes(overlap, x),
      );
      if (a === undefined) {
        note(
          p.name,
          'PoolExhausted',
          `the pool of gateway ${p.gateway} has no free address (${mine.length} of ${count} allocated)`,
        );
        break;
      }
      owner.set(a, p.name);
      mine.push(a);
    }
  }

  const policyOut: Record<string, PolicyAllocation> = {};
  for (const p of policies) {
    const ips = (result.get(p.name) as number[]).map(formatIpv4);
    const gw = gatewayOut[p.gateway];
    const problems = notes.get(p.name) ?? [];
    const conditions: PlannedCondition[] = [];
    if (!gw) {
      conditions.push({
        type: 'IPsAllocated',
        status: ips.length > 0 ? 'True' : 'False',
        reason: 'GatewayNotFound',
        message: `gateway ${p.gateway} does not exist; ${ips.length > 0 ? `holding ${ips.join(', ')} for it` : 'no IPs allocated'}. Create the EgressGateway or fix spec.gateway`,
      });
    } else if (problems.length > 0) {
      conditions.push({
        type: 'IPsAllocated',
        status: ips.length > 0 ? 'True' : 'False',
        reason: (problems[0] as string).split(':')[0] as string,
        message: `${ips.length > 0 ? `allocated ${ips.join(', ')}` : 'no IPs allocated'}; ${problems.join('; ')}`,
      });
    } else {
      conditions.push({
        type: 'IPsAllocated',
        status: 'True',
        reason: 'Allocated',
        message: `allocated ${ips.join(', ')}`,
      });
    }
    const usable = gw?.usable ?? false;
    const ready = usable && ips.length > 0;
    conditions.push({
      type: 'Ready',
      status: ready ? 'True' : 'False',
      reason: ready
        ? 'Ready'
        : !gw
          ? 'GatewayNotFound'
          : gw.readyNodes.length === 0
            ? 'NoReadyGatewayNode'
            : !usable
              ? 'GatewayInvalid'
              : 'NoIPs',
      message: ready
        ? `traffic leaves from ${ips.join(', ')} through gateway ${p.gateway}`
        : `selected pods' matched traffic is ${p.failurePolicy === 'Closed' ? 'dropped (failurePolicy Closed)' : 'sent the normal way (failurePolicy Open)'}`,
    });
    policyOut[p.name] = { ips, gatewayUsable: usable, conditions };
  }

  const gatewayOfPolicy = new Map(policies.map((p) => [p.name, p.gateway]));
  const blocked: Interval[] = [...owner.keys(), ...nodeAddresses.keys(), ...floatingIPs.keys()].map((a) => ({
    start: a,
    end: a,
  }));
  for (const g of gateways) {
    const out = gatewayOut[g.name] as GatewayAllocation;
    const pool = pools.get(g.name) as ParsedPool;
    out.allocatedCount = [...owner].filter(
      ([a, p]) => gatewayOfPolicy.get(p) === g.name && includes(pool.usable, a),
    ).length;
    out.freeCount = size(subtract(pool.usable, [...blocked, ...(overlapOf.get(g.name) ?? [])]));
    out.conditions.push({
      type: 'Ready',
      status: out.usable ? 'True' : 'False',
      reason: out.usable ? 'Ready' : out.readyNodes.length === 0 ? 'NoReadyNode' : 'ConfigInvalid',
      message: out.usable
        ? `${out.readyNodes.length} ready node(s): ${out.readyNodes.join(', ')}`
        : out.readyNodes.length === 0
          ? `no Ready node matches the nodeSelector (${out.nodes.length} selected); selected pods of its policies cannot be steered`
          : 'the configuration is invalid (see ConfigValid)',
    });
  }
  return { policies: policyOut, gateways: gatewayOut };
}

function reasonForGatewayProblem(problem: string): string {
  if (problem.startsWith('vni')) return 'VniConflict';
  if (problem.startsWith('floatingIP')) return 'FloatingIPConflict';
  return 'InvalidPool';
}

function parseAll(texts: readonly string[]): number[] {
  const out: number[] = [];
  for (const t of texts) {
    const parsed = tryParseIpv4(t);
    if (parsed.ok && !out.includes(parsed.value)) out.push(parsed.value);
  }
  return out;
}
