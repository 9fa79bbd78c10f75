import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { buildClusterObject } from '../broker/objects.ts';
import type { MoorError } from '../errors.ts';
import { KubeApiError } from '../k8s/rest.ts';
import { type ClustersetMembers, readMembers } from './clusterset-members.ts';
import {
  MAX_SUMMARY_RULES,
  type MapSummary,
  readSummary,
  summaryAccessError,
  summaryName,
  summaryObject,
} from './clusterset-objects.ts';
import { planSummaries } from './clusterset-plan.ts';
import { readClustersetView } from './clusterset-view.ts';
import type { AclRule } from './rules.ts';

const NS = 'submariner-k8s-broker';

const summary = (clusterID: string, n: number, ips: string[], policy = 'checkout'): MapSummary => ({
  name: summaryName(clusterID, policy, n),
  clusterID,
  policy,
  destinations: [{ cidr: '10.50.0.0/24' }],
  rules: ips.map((ip, i) => ({
    egressIP: ip,
    namespace: 'payments',
    workload: { kind: 'Deployment', name: `w${i}` },
    pods: 2,
  })),
});

/** As the API server returns it: namespace, creationTimestamp, resourceVersion. */
/** A stored object as a test edits it (hostile edits assign anything). */
interface Stored {
  metadata: {
    name: string;
    labels?: Record<string, string>;
    creationTimestamp?: string;
    resourceVersion?: string;
  };
  clusterID: unknown;
  policy: unknown;
  destinations: unknown;
  rules: unknown[];
  [k: string]: unknown;
}
type Patch = (o: Stored) => void;
const setLabel = (o: Stored, id: string) => {
  o.metadata.labels = { ...o.metadata.labels, 'submariner-io/clusterID': id };
};

const stored = (s: MapSummary, created = '2026-12-01T10:00:00Z', patch: Patch = () => {}) => {
  const o = structuredClone(summaryObject(s, NS)) as unknown as Stored;
  o.metadata.creationTimestamp = created;
  o.metadata.resourceVersion = '7';
  patch(o);
  return o;
};

/** A Submariner Cluster object on the broker, as the gateway (or moor join) publishes it. */
const clusterObject = (id: string) =>
  buildClusterObject({ clusterId: id, namespace: NS, serviceCidrs: [], clusterCidrs: ['10.1.0.0/16'] });
const membersOf = (...ids: string[]): ClustersetMembers => readMembers(ids.map(clusterObject));
const everyone = membersOf('cluster-a', 'cluster-b', 'a', 'b', 'c');

const a0 = summary('cluster-a', 0, ['203.0.113.20']);
const b0 = summary('cluster-b', 0, ['198.51.100.7']);

describe('EgressMapSummary objects', () => {
  it('reads back what it writes', () => {
    const r = readSummary(stored(a0));
    expect(r).toMatchObject({ ok: true, summary: a0, skippedRules: 0 });
  });

  it('trusts an object only when name, label and content agree on one cluster ID', () => {
    const hostile: [string, Patch, RegExp][] = [
      ['label claims another cluster', (o) => setLabel(o, 'cluster-b'), /label .*cluster-b.* disagrees/],
      ['no label', (o) => delete o.metadata.labels, /label .*null.* disagrees/],
      [
        'content claims another cluster',
        (o) => (o.clusterID = 'cluster-b'),
        /disagrees with clusterID "cluster-b"/,
      ],
      [
        'name of another cluster',
        (o) => (o.metadata.name = 'cluster-b-checkout-0'),
        /not prefixed with its clusterID "cluster-a-"/,
      ],
      ['prefix without the dash', (o) => (o.metadata.name = 'cluster-abc-0'), /not prefixed/],
      ['no clusterID', (o) => delete o.clusterID, /clusterID null is not a valid/],
      [
        'clusterID not a label',
        (o) => {
          o.clusterID = 'A_B';
          setLabel(o, 'A_B');
        },
        /not a valid cluster ID/,
      ],
    ];
    for (const [what, patch, why] of hostile) {
      const r = readSummary(stored(a0, undefined, patch));
      expect(r.ok, what).toBe(false);
      if (!r.ok) {
        expect(r.problem.code, what).toBe('inconsistent-cluster-id');
        expect(r.problem.problem, what).toMatch(why);
        expect(r.problem.object).toMatch(/^EgressMapSummary\/submariner-k8s-broker\//);
      }
    }
  });

  it('refuses garbled objects and skips garbled rules', () => {
    for (const junk of [null, 'x', [], 7, {}, { metadata: {} }, { metadata: { name: 5 } }])
      expect(readSummary(junk)).toMatchObject({ ok: false, problem: { code: 'invalid-object' } });
    const garbled: [Patch, RegExp][] = [
      [(o) => (o.rules = 'all' as unknown as unknown[]), /rules must be a list/],
      [(o) => (o.destinations = [{ cidr: 'everything' }]), /valid IPv4 cidr/],
      [(o) => (o.policy = 'Not A Name'), /policy/],
      [(o) => (o.rules = Array(MAX_SUMMARY_RULES + 1).fill(o.rules[0])), /at most 100/],
    ];
    for (const [patch, why] of garbled) {
      const r = readSummary(stored(a0, undefined, patch));
      expect(r.ok).toBe(false);
      if (!r.ok)
        expect(r.problem).toMatchObject({ code: 'invalid-object', problem: expect.stringMatching(why) });
    }
    const r = readSummary(
      stored(a0, undefined, (o) =>
        o.rules.push(
          { ...(o.rules[0] as object), egressIP: '999.1.1.1' },
          { ...(o.rules[0] as object), pods: -1 },
          { ...(o.rules[0] as object), workload: { kind: 'Deployment', name: 'x y' } },
          'junk',
        ),
      ),
    );
    expect(r).toMatchObject({ ok: true, skippedRules: 4 });
  });
});

describe('the clusterset view', () => {
  it('lists every cluster with the cluster in each rule', () => {
    const v = readClustersetView([stored(b0), stored(a0)], everyone);
    expect(v.problems).toEqual([]);
    expect(
      v.clusters.map((c) => [c.cluster, c.rules.map((r) => [r.cluster, r.egressIP, r.policy, r.pods])]),
    ).toEqual([
      ['cluster-a', [['cluster-a', '203.0.113.20', 'checkout', 2]]],
      ['cluster-b', [['cluster-b', '198.51.100.7', 'checkout', 2]]],
    ]);
  });

  it('ignores and reports a forged object: cluster B under A`s name', () => {
    const forged = stored(summary('cluster-a', 9, ['192.0.2.66']), undefined, (o) => {
      setLabel(o, 'cluster-b');
    });
    const v = readClustersetView([stored(a0), stored(b0), forged], everyone);
    expect(v.clusters.flatMap((c) => c.rules.map((r) => r.egressIP))).not.toContain('192.0.2.66');
    expect(v.problems).toEqual([
      {
        code: 'inconsistent-cluster-id',
        object: `EgressMapSummary/${NS}/cluster-a-checkout-9`,
        problem: 'label submariner-io/clusterID="cluster-b" disagrees with clusterID "cluster-a"',
      },
    ]);
  });

  it('one egress IP claimed by two clusters: the first claim keeps it, the newcomer is reported', () => {
    const thief = summary('cluster-b', 1, ['203.0.113.20', '198.51.100.8'], 'steal');
    const v = readClustersetView(
      [stored(thief, '2026-12-01T11:00:00Z'), stored(a0, '2026-12-01T10:00:00Z')],
      everyone,
    );
    expect(v.clusters.map((c) => [c.cluster, c.rules.map((r) => r.egressIP)])).toEqual([
      ['cluster-a', ['203.0.113.20']],
      ['cluster-b', ['198.51.100.8']],
    ]);
    expect(v.problems).toEqual([
      {
        code: 'conflict',
        object: `EgressMapSummary/${NS}/cluster-b-steal-1`,
        problem: 'egress IP 203.0.113.20 is already claimed by cluster "cluster-a"',
      },
    ]);
  });

  it('one rule in two objects of one cluster counts once and is reported', () => {
    const again = { ...a0, name: 'cluster-a-checkout-1' };
    const v = readClustersetView([stored(again, '2026-12-01T10:00:01Z'), stored(a0)], everyone);
    expect(v.clusters[0]?.rules).toHaveLength(1);
    expect(v.problems.map((p) => [p.code, p.object])).toEqual([
      ['conflict', `EgressMapSummary/${NS}/cluster-a-checkout-1`],
    ]);
  });

  it('a cluster without a Cluster object (it left) is ignored and reported once, whatever its objects claim', () => {
    const b1 = summary('cluster-b', 1, ['198.51.100.8'], 'web');
    const v = readClustersetView([stored(a0), stored(b0), stored(b1)], membersOf('cluster-a'));
    expect(v.clusters.map((c) => c.cluster)).toEqual(['cluster-a']);
    expect(v.trustedObjects).toBe(1);
    expect(v.problems).toEqual([
      {
        code: 'not-a-member',
        object: `EgressMapSummary/${NS}/cluster-b-*`,
        problem: `cluster "cluster-b" has no Cluster object on the broker (it left the clusterset or never joined); its 2 EgressMapSummary objects are ignored; the member removes them with \`moor acl withdraw --clusterset\` (docs/egress-acl.md, "Leaving the clusterset"), else the broker admin: kubectl -n ${NS} delete egressmapsummaries -l submariner-io/clusterID=cluster-b`,
      },
    ]);
  });

  it('a cluster that left claims no egress IP: the IP`s next owner gets it; a cluster that rejoins is trusted again', () => {
    // B held 203.0.113.20 first, left; the address now belongs to A.
    const old = summary('cluster-b', 0, ['203.0.113.20']);
    const objects = [stored(old, '2026-12-01T09:00:00Z'), stored(a0, '2026-12-01T10:00:00Z')];
    const left = readClustersetView(objects, membersOf('cluster-a'));
    expect(left.clusters.map((c) => [c.cluster, c.rules.map((r) => r.egressIP)])).toEqual([
      ['cluster-a', ['203.0.113.20']],
    ]);
    expect(left.problems.map((p) => p.code)).toEqual(['not-a-member']);
    // B rejoins (its Cluster object is back): trusted again, and the first claim holds again.
    const back = readClustersetView(objects, membersOf('cluster-a', 'cluster-b'));
    expect(back).toEqual(readClustersetView(objects, everyone));
    expect(back.clusters.map((c) => [c.cluster, c.rules.map((r) => r.egressIP)])).toEqual([
      ['cluster-b', ['203.0.113.20']],
    ]);
  });

  it('membership: only a readable Cluster object named for its cluster ID counts; garbled ones are skipped and named', () => {
    const garbled = { ...clusterObject('cluster-b'), spec: { cluster_id: 'cluster-b', cluster_cidr: 'all' } };
    const posing = { ...clusterObject('cluster-c'), metadata: { name: 'not-c', namespace: NS } };
    const members = readMembers([
      clusterObject('cluster-a'),
      garbled,
      posing,
      null,
      'junk',
      { metadata: {} },
    ]);
    expect([...members.ids]).toEqual(['cluster-a']);
    const v = readClustersetView([stored(a0), stored(b0)], members);
    expect(v.problems.map((p) => [p.code, p.object])).toEqual([
      ['not-a-member', `EgressMapSummary/${NS}/cluster-b-*`],
    ]);
    expect(v.problems[0]?.problem).toMatch(
      /^cluster "cluster-b" has no readable Cluster object on the broker \(Cluster cluster-b: spec.cluster_cidr must be a list, got a string\); its 1 EgressMapSummary object is ignored/,
    );
  });

  it('never trusts a tampered object, whatever the mix and order (fast-check)', () => {
    const ids = ['a', 'b', 'c'];
    const tamper = fc.constantFrom<[string, Patch]>(
      ['none', () => {}],
      ['label', (o) => setLabel(o, o.clusterID === 'a' ? 'b' : 'a')],
      ['content', (o) => (o.clusterID = o.clusterID === 'a' ? 'b' : 'a')],
      ['name', (o) => (o.metadata.name = `z-${o.metadata.name}`)],
      ['rules', (o) => (o.rules = { x: 1 } as unknown as unknown[])],
    );
    const obj = fc.record({
      id: fc.constantFrom(...ids),
      n: fc.nat(3),
      ip: fc.integer({ min: 1, max: 6 }).map((x) => `192.0.2.${x}`),
      minute: fc.nat(59),
      tamper,
    });
    fc.assert(
      fc.property(
        fc.array(obj, { maxLength: 8 }),
        fc.subarray(ids),
        fc.func(fc.integer()),
        (specs, memberIds, order) => {
          const objects = specs.map((s, i) =>
            stored(
              summary(s.id, s.n * 10 + i, [s.ip]),
              `2026-12-01T10:${String(s.minute).padStart(2, '0')}:00Z`,
              s.tamper[1],
            ),
          );
          const clusters = memberIds.map(clusterObject);
          const v = readClustersetView(objects, readMembers(clusters));
          const shuffled = [...objects].sort((x, y) => order(x) - order(y));
          const shuffledClusters = [...clusters].sort((x, y) => order(x) - order(y));
          expect(readClustersetView(shuffled, readMembers(shuffledClusters))).toEqual(v);
          const untampered = specs.filter((s) => s.tamper[0] === 'none' && memberIds.includes(s.id));
          // Each cluster that left, with a readable object, is reported once.
          const outsiders = new Set(
            specs.filter((s) => s.tamper[0] === 'none' && !memberIds.includes(s.id)).map((s) => s.id),
          );
          expect(v.problems.filter((p) => p.code === 'not-a-member').map((p) => p.object)).toEqual(
            [...outsiders].sort().map((id) => `EgressMapSummary/${NS}/${id}-*`),
          );
          for (const c of v.clusters)
            for (const r of c.rules)
              expect(
                untampered.some((s) => s.id === c.cluster && s.ip === r.egressIP && r.cluster === c.cluster),
              ).toBe(true);
          // Each IP belongs to one cluster at most.
          const owners = new Map<string, string>();
          for (const c of v.clusters)
            for (const r of c.rules) {
              expect(owners.get(r.egressIP) ?? c.cluster).toBe(c.cluster);
              owners.set(r.egressIP, c.cluster);
            }
          expect(v.trustedObjects).toBe(untampered.length);
        },
      ),
    );
  });
});

const rule = (
  ns: string,
  name: string,
  ip: string,
  pods = 1,
  policy = 'checkout',
  kind = 'Deployment',
): AclRule => ({
  egressIP: ip,
  namespace: ns,
  workload: { kind, name },
  policy,
  destinations: [{ cidr: '10.50.0.0/24', except: ['10.50.0.9/32'] }],
  pods,
});

describe('planSummaries', () => {
  it('10,000 bare pods: 100 objects of at most 100 rules, each well under the object size limit', () => {
    const rules = Array.from({ length: 10_000 }, (_, i) =>
      rule('payments', `checkout-${i}-abcde`, `203.0.113.${1 + (i % 200)}`, 1, 'checkout', 'Pod'),
    );
    const plan = planSummaries({ clusterID: 'cluster-a', rules, previous: [] });
    expect(plan.summaries).toHaveLength(100);
    expect(plan.write).toHaveLength(100);
    const bytes = plan.summaries.map((s) => JSON.stringify(summaryObject(s, NS)).length);
    expect(Math.max(...bytes)).toBeLessThan(100 * 1024);
    for (const s of plan.summaries) expect(readSummary({ ...summaryObject(s, NS) }).ok).toBe(true);
    // Identical input against what was written: nothing to do.
    expect(planSummaries({ clusterID: 'cluster-a', rules, previous: plan.summaries })).toMatchObject({
      write: [],
      remove: [],
    });
  });

  it('a pod count change rewrites one object; a new workload fills room; an emptied object is deleted', () => {
    const rules = Array.from({ length: 250 }, (_, i) =>
      rule('payments', `w${String(i).padStart(3, '0')}`, '203.0.113.20'),
    );
    const first = planSummaries({ clusterID: 'a', rules, previous: [] });
    expect(first.summaries.map((s) => [s.name, s.rules.length])).toEqual([
      ['a-checkout-0', 100],
      ['a-checkout-1', 100],
      ['a-checkout-2', 50],
    ]);
    const scaled = rules.map((r, i) => (i === 120 ? { ...r, pods: 3 } : r));
    expect(planSummaries({ clusterID: 'a', rules: scaled, previous: first.summaries }).write).toEqual([
      'a-checkout-1',
    ]);
    const more = [...rules, rule('payments', 'zzz-new', '203.0.113.21')];
    expect(planSummaries({ clusterID: 'a', rules: more, previous: first.summaries }).write).toEqual([
      'a-checkout-2',
    ]);
    const fewer = rules.slice(0, 200);
    expect(planSummaries({ clusterID: 'a', rules: fewer, previous: first.summaries })).toMatchObject({
      write: [],
      remove: ['a-checkout-2'],
    });
    expect(
      planSummaries({ clusterID: 'a', rules: [], previous: first.summaries, unreadable: ['a-junk'] }).remove,
    ).toEqual(['a-checkout-0', 'a-checkout-1', 'a-checkout-2', 'a-junk']);
  });

  it('one policy per object, the policy`s destinations with it; names carry the cluster ID', () => {
    const plan = planSummaries({
      clusterID: 'a',
      rules: [rule('p', 'x', '203.0.113.20', 2, 'one'), rule('p', 'y', '203.0.113.21', 1, 'two')],
      previous: [],
    });
    expect(plan.summaries.map((s) => [s.name, s.policy, s.destinations, s.rules.length])).toEqual([
      ['a-one-0', 'one', [{ cidr: '10.50.0.0/24', except: ['10.50.0.9/32'] }], 1],
      ['a-two-0', 'two', [{ cidr: '10.50.0.0/24', except: ['10.50.0.9/32'] }], 1],
    ]);
    expect(summaryName('a', 'p'.repeat(300), 12)).toHaveLength(253);
  });
});

describe('summaryAccessError', () => {
  it('names the fix when the broker lacks the API or the members` Role', () => {
    const forbidden = summaryAccessError(
      new KubeApiError('GET', '/x', 403, { reason: 'Forbidden', message: 'cannot list' }),
      NS,
    ) as MoorError;
    expect(forbidden.code).toBe('broker-forbidden');
    expect(forbidden.hint).toMatch(/moor-egress-summaries-role\.yaml/);
    const missing = summaryAccessError(new KubeApiError('GET', '/x', 404, undefined), NS) as MoorError;
    expect(missing.message).toBe(`the broker has no EgressMapSummary API (namespace ${NS})`);
    const other = new Error('ECONNREFUSED');
    expect(summaryAccessError(other, NS)).toBe(other);
  });
});
