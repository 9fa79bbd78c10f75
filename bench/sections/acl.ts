// 8. ACL mapping at scale, in process (pure planners and renderers, no cluster): 10,000 selected
// pods over 20 policies → EgressMapSlice count and bytes, plan time, one pod change (slices
// rewritten, time), the history pass, and the export formats' render time.

import { renderAcl } from '../../src/acl/render.ts';
import { aclRules } from '../../src/acl/rules.ts';
import { advanceHistory } from '../../src/plan/egress-history.ts';
import { flattenSlices, planMapping } from '../../src/plan/egress-mapping.ts';
import { mapSliceObject } from '../../src/plan/egress-mapping-wire.ts';
import type { PodAssignment } from '../../src/plan/egress-pods.ts';
import type { Section } from '../lib/section.ts';
import { median } from '../lib/stats.ts';

const PODS = 10_000;
const POLICIES = 20;
const RUNS = 5;

function timed<T>(f: () => T): { ms: number; value: T } {
  const t0 = process.hrtime.bigint();
  const value = f();
  return { ms: Number(process.hrtime.bigint() - t0) / 1e6, value };
}

export const aclSection: Section = {
  name: 'acl',
  title: 'ACL mapping of 10,000 pods: slices, bytes, plan and one-change time, export render time',
  usesOracle: false,
  timeoutMs: 120_000,
  async run(ctx) {
    const policies = Array.from({ length: POLICIES }, (_, i) => ({
      name: `policy-${i}`,
      gateway: 'east',
      destinations: [{ cidr: `10.${50 + i}.0.0/24` }],
    }));
    const assignments: PodAssignment[] = Array.from({ length: PODS }, (_, i) => ({
      namespace: `ns-${i % 50}`,
      name: `app-${i % 200}-${i}`,
      node: `w${i % 30}`,
      podIP: `10.42.${(i >> 8) & 255}.${i & 255}`,
      policy: `policy-${i % POLICIES}`,
      egressIP: `203.0.113.${(i % POLICIES) + 1}`,
    }));
    const workloads = new Map(
      assignments.map((a) => [
        `${a.namespace}/${a.name}`,
        { kind: 'Deployment', name: a.name.split('-').slice(0, 2).join('-') },
      ]),
    );
    const now = '2026-12-01T08:00:00Z';
    const first = timed(() => planMapping({ policies, assignments, workloads, previous: [], now }));
    const slices = first.value.slices;
    const bytes = slices.reduce((sum, s) => sum + JSON.stringify(mapSliceObject(s)).length, 0);
    ctx.figure({ name: 'EgressMapSlices for 10,000 pods', value: slices.length, unit: 'objects' });
    ctx.figure({ name: 'their size (JSON)', value: bytes / 1e6, unit: 'MB', digits: 2 });
    ctx.figure({
      name: 'largest slice',
      value: Math.max(...slices.map((s) => JSON.stringify(mapSliceObject(s)).length)) / 1e3,
      unit: 'kB',
      digits: 1,
    });
    const fresh = [first.ms];
    for (let i = 1; i < RUNS; i++)
      fresh.push(timed(() => planMapping({ policies, assignments, workloads, previous: [], now })).ms);
    ctx.figure({
      name: 'planMapping from scratch, median',
      value: median(fresh),
      unit: 'ms',
      samples: fresh,
      digits: 1,
    });

    const changed = assignments.map((a, i) => (i === 4242 ? { ...a, egressIP: '203.0.113.99' } : a));
    const change = [];
    let writes = 0;
    for (let i = 0; i < RUNS; i++) {
      const r = timed(() =>
        planMapping({
          policies,
          assignments: changed,
          workloads,
          previous: slices,
          now: '2026-12-01T08:01:00Z',
        }),
      );
      change.push(r.ms);
      writes = r.value.write.length + r.value.remove.length;
    }
    ctx.figure({ name: 'one pod changed: slices rewritten', value: writes, unit: 'objects' });
    ctx.figure({
      name: 'one pod changed: planMapping, median',
      value: median(change),
      unit: 'ms',
      samples: change,
      digits: 1,
    });

    const rows = flattenSlices(slices);
    const hist = timed(() => advanceHistory({ previous: [], rows, now, retentionMs: 90 * 86_400_000 }));
    ctx.figure({ name: 'history pass (20 IPs), first', value: hist.ms, unit: 'ms', digits: 1 });
    for (const format of ['json', 'csv', 'nft', 'iptables'] as const) {
      const samples: number[] = [];
      for (let i = 0; i < RUNS; i++)
        samples.push(
          timed(() => renderAcl({ generatedAt: now, filter: {}, rules: aclRules(rows, {}) }, format)).ms,
        );
      ctx.figure({
        name: `export -o ${format} (rules + render), median`,
        value: median(samples),
        unit: 'ms',
        samples,
        digits: 1,
      });
    }
  },
};
