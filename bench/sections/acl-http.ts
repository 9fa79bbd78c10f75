// 9. `/v1/egress-map` with 10,000 pods' EgressMapSlices in a real API server, served by a
// `moor controller` standby (the bundle): time from one slice change (one pod's egress IP) to
// the long-poll's answer, response bytes (rules and per-pod view), a full GET and a 304, and the
// replica's memory. The slices are written as the leader writes them (planMapping + the wire form).

import { Agent } from 'node:https';
import { CoreV1Api, RbacAuthorizationV1Api } from '@kubernetes/client-node';
import { egressMapDocument, renderDocument } from '../../src/acl/egress-map-document.ts';
import { flattenSlices, planMapping } from '../../src/plan/egress-mapping.ts';
import { mapSliceObject, readMapSlice } from '../../src/plan/egress-mapping-wire.ts';
import type { PodAssignment } from '../../src/plan/egress-pods.ts';
import { createNamespace, egressObjects } from '../../test/harness/egress-cluster.ts';
import { CTL_ADDRESS, egressMapCluster, egressMapGet } from '../../test/harness/egress-map.ts';
import { mintToken } from '../../test/harness/kube.ts';
import { waitFor } from '../../test/harness/process.ts';
import { TestRun } from '../../test/harness/run.ts';
import { memoryOf } from '../lib/proc-stats.ts';
import type { Section } from '../lib/section.ts';
import { median } from '../lib/stats.ts';

const PODS = 10_000;
const POLICIES = 20;
const RUNS = 5;

export const aclHttpSection: Section = {
  name: 'acl-http',
  title: '/v1/egress-map over 10,000 pods: slice change → long-poll answer, bytes, GET and 304 cost',
  usesOracle: false,
  timeoutMs: 600_000,
  async run(ctx) {
    const run = TestRun.start();
    try {
      const c = await egressMapCluster(run, 'aclhttp');
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
      const { slices } = planMapping({
        policies,
        assignments,
        workloads,
        previous: [],
        now: '2026-12-01T08:00:00Z',
      });
      for (const s of slices) await c.writeSlice(s);
      ctx.log(`${slices.length} EgressMapSlices written`);
      await createNamespace(c.kc, 'fw');
      await c.kc
        .makeApiClient(CoreV1Api)
        .createNamespacedServiceAccount({ namespace: 'fw', body: { metadata: { name: 'follower' } } });
      await c.kc.makeApiClient(RbacAuthorizationV1Api).createClusterRoleBinding({
        body: {
          metadata: { name: 'fw-follower' },
          roleRef: {
            apiGroup: 'rbac.authorization.k8s.io',
            kind: 'ClusterRole',
            name: 'moor-egress-map-reader',
          },
          subjects: [{ kind: 'ServiceAccount', name: 'follower', namespace: 'fw' }],
        },
      });
      const token = await mintToken(c.kc, 'fw', 'follower');
      await egressObjects(c.kc).createPolicy('policy-0', {
        podSelector: { matchLabels: { app: 'x' } },
        destinations: [{ cidr: '10.50.0.0/24' }],
        gateway: 'east',
      });
      await c.holdLeaseElsewhere();
      const replica = await c.startController('bench', `${CTL_ADDRESS}:8443`);
      // A follower keeps its connection (and TLS session) open, as curl or any HTTP library does.
      const agent = new Agent({ keepAlive: true, maxSockets: 4, ca: c.caPem });
      run.defer(async () => agent.destroy());
      const get = (path: string, etag?: string, timeoutMs?: number) =>
        egressMapGet(replica, path, {
          ca: c.caPem,
          token,
          agent,
          ...(etag ? { etag } : {}),
          ...(timeoutMs ? { timeoutMs } : {}),
        });
      const first = await waitFor(
        'the mapping served',
        async () => {
          const r = await get('/v1/egress-map');
          return r.status === 200 ? r : undefined;
        },
        { process: replica.process, timeoutMs: 120_000, intervalMs: 500 },
      );
      const pods = await get('/v1/egress-map?view=pods');
      ctx.figure({
        name: 'response, rules (all policies)',
        value: first.body.length / 1e3,
        unit: 'kB',
        digits: 1,
      });
      ctx.figure({
        name: 'response, ?view=pods (10,000 rows)',
        value: pods.body.length / 1e6,
        unit: 'MB',
        digits: 2,
      });

      const full: number[] = [];
      const fullPods: number[] = [];
      const notModified: number[] = [];
      for (let i = 0; i < RUNS * 2; i++) {
        full.push((await get('/v1/egress-map')).ms);
        fullPods.push((await get('/v1/egress-map?view=pods')).ms);
        notModified.push((await get('/v1/egress-map?view=pods', pods.headers.etag as string)).ms);
      }
      ctx.figure({ name: 'GET rules, median', value: median(full), unit: 'ms', samples: full, digits: 1 });
      ctx.figure({
        name: 'GET ?view=pods, median',
        value: median(fullPods),
        unit: 'ms',
        samples: fullPods,
        digits: 1,
      });
      ctx.figure({
        name: '304 (If-None-Match, ?view=pods), median',
        value: median(notModified),
        unit: 'ms',
        samples: notModified,
        digits: 1,
      });

      // The in-process part of an answer after a change, as MappingView does it: re-parse the one
      // slice that changed, then rows, rules and bytes of all 10,000 pods.
      const render: number[] = [];
      const objects = slices.map(mapSliceObject);
      const parsed = objects.flatMap((o) => {
        const r = readMapSlice(o);
        return r.ok ? [r.slice] : [];
      });
      for (let i = 0; i < RUNS; i++) {
        const t0 = performance.now();
        const one = readMapSlice(objects[i] as Record<string, unknown>);
        if (one.ok) parsed[i] = one.slice;
        renderDocument(
          egressMapDocument(flattenSlices(parsed), [], { filter: {}, view: 'rules', waitSeconds: 0 }),
        );
        render.push(performance.now() - t0);
      }
      ctx.figure({
        name: 'in process: one slice re-parsed + rows + rules + bytes, median',
        value: median(render),
        unit: 'ms',
        samples: render,
        digits: 1,
      });

      // One pod moves to another IP: one slice rewritten; the follower parked on the rules wakes.
      const wake: number[] = [];
      let etag = first.headers.etag as string;
      const target = slices[slices.length - 1];
      if (!target) throw new Error('no slices planned');
      for (let i = 0; i < RUNS; i++) {
        const poll = get('/v1/egress-map?wait=120', etag, 130_000);
        await new Promise((r) => setTimeout(r, 500));
        const changed = {
          ...target,
          entries: target.entries.map((e, j) => (j === 0 ? { ...e, egressIP: `198.51.100.${10 + i}` } : e)),
        };
        const t0 = performance.now();
        await c.writeSlice(changed);
        const answer = await poll;
        if (answer.status !== 200) throw new Error(`long-poll answered ${answer.status}, not 200`);
        wake.push(performance.now() - t0);
        etag = answer.headers.etag as string;
      }
      ctx.figure({
        name: 'slice change (API write) → long-poll answer, median',
        value: median(wake),
        unit: 'ms',
        samples: wake,
        digits: 0,
      });
      try {
        const m = memoryOf(replica.process.pid);
        ctx.figure({
          name: 'controller replica RSS (10,000 pods mapped)',
          value: m.rssMiB,
          unit: 'MiB',
          digits: 0,
        });
      } catch (err) {
        ctx.note(`RSS not read: ${err instanceof Error ? err.message : String(err)}`);
      }
    } finally {
      await run.cleanup();
    }
  },
};
