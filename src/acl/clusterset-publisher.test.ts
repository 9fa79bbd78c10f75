import { describe, expect, it } from 'vitest';
import { buildClusterObject } from '../broker/objects.ts';
import type { MapRow } from '../plan/egress-mapping.ts';
import { summaryObject } from './clusterset-objects.ts';
import { ClustersetPublisher } from './clusterset-publisher.ts';
import { FAKE_NS, fakeBroker, type FakeObject as Obj } from './clusterset-testing.ts';
import type { MappingSnapshot } from './mapping-view.ts';

const NS = FAKE_NS;

const row = (pod: string, ip: string, workload = 'checkout', policy = 'checkout'): MapRow =>
  ({
    policy,
    gateway: 'east',
    destinations: [{ cidr: '10.50.0.0/24' }],
    namespace: 'payments',
    pod,
    workload: { kind: 'Deployment', name: workload },
    egressIP: ip,
    since: '2026-12-01T10:00:00Z',
  }) as MapRow;

function fakeMapping(rows: MapRow[] | undefined) {
  let snapshot: MappingSnapshot | undefined = rows && { slices: [], rows, problems: [], generation: 1 };
  const listeners = new Set<() => void>();
  return {
    read: () => snapshot,
    onChange: (cb: () => void) => {
      listeners.add(cb);
      return () => listeners.delete(cb);
    },
    set(next: MapRow[]) {
      snapshot = { slices: [], rows: next, problems: [], generation: (snapshot?.generation ?? 0) + 1 };
      for (const l of listeners) l();
    },
  };
}

const foreign = summaryObject(
  {
    name: 'cluster-b-web-0',
    clusterID: 'cluster-b',
    policy: 'web',
    destinations: [],
    rules: [
      { egressIP: '198.51.100.7', namespace: 'shop', workload: { kind: 'Deployment', name: 'f' }, pods: 1 },
    ],
  },
  NS,
) as Obj;
/** Carries our label but another cluster's name: not ours to touch. */
const squatter = {
  ...structuredClone(foreign),
  metadata: { name: 'cluster-b-x-0', labels: { 'submariner-io/clusterID': 'cluster-a' } },
};

/** Cluster A's publisher. */
const publisher = (
  broker: ReturnType<typeof fakeBroker>,
  mapping: ReturnType<typeof fakeMapping>,
  log: (line: string) => void,
  extra: { retryMs?: number } = {},
) =>
  new ClustersetPublisher({
    mapping,
    broker: broker.client,
    namespace: NS,
    clusterID: 'cluster-a',
    log,
    ...extra,
  });

async function run(p: ClustersetPublisher) {
  p.loop.markDirty('test', { immediate: true });
  await p.loop.idle();
  return p.loop.last;
}

describe('ClustersetPublisher', () => {
  it('writes its own objects once; identical input writes nothing; foreign objects are never touched', async () => {
    const broker = fakeBroker([foreign, squatter]);
    const mapping = fakeMapping([row('a', '203.0.113.20'), row('b', '203.0.113.20')]);
    const logs: string[] = [];
    const p = publisher(broker, mapping, (l) => logs.push(l));
    const first = await run(p);
    expect(first?.errors).toEqual([]);
    expect(broker.writes).toEqual(['create cluster-a-checkout-0']);
    expect(broker.objects.get('cluster-a-checkout-0')).toMatchObject({
      metadata: { labels: { 'submariner-io/clusterID': 'cluster-a' } },
      clusterID: 'cluster-a',
      rules: [{ egressIP: '203.0.113.20', pods: 2 }],
    });
    expect(logs.some((l) => l.includes('cluster-b-x-0 carries our label but not our name prefix'))).toBe(
      true,
    );
    broker.writes.length = 0;
    expect((await run(p))?.changed).toBe(false);
    expect(broker.writes).toEqual([]);
    // The mapping emptied: only our object goes.
    mapping.set([]);
    await run(p);
    expect(broker.writes).toEqual(['delete cluster-a-checkout-0']);
    expect([...broker.objects.keys()].sort()).toEqual(['cluster-b-web-0', 'cluster-b-x-0']);
    await p.stop();
  });

  it('waits for the mapping; a broker outage deletes nothing and is retried', async () => {
    const broker = fakeBroker();
    const mapping = fakeMapping(undefined);
    const p = publisher(broker, mapping, () => {}, { retryMs: 5 });
    expect((await run(p))?.waiting).toMatch(/not listed yet/);
    mapping.set([row('a', '203.0.113.20')]);
    await run(p);
    expect(broker.objects.has('cluster-a-checkout-0')).toBe(true);
    broker.state.down = true;
    mapping.set([]);
    const failed = await run(p);
    expect(failed?.errors.map((e) => [e.phase, e.code])).toEqual([['broker-read', 'broker-unreachable']]);
    expect(broker.objects.has('cluster-a-checkout-0')).toBe(true);
    broker.state.down = false;
    mapping.set([row('a', '203.0.113.20'), row('c', '203.0.113.22', 'other')]);
    await run(p);
    expect(broker.objects.get('cluster-a-checkout-0')).toMatchObject({ rules: [{}, {}] });
    await p.stop();
  });

  it('warns once while its own cluster is not a member, keeps publishing, and says when it joins', async () => {
    const broker = fakeBroker();
    const mapping = fakeMapping([row('a', '203.0.113.20')]);
    const logs: string[] = [];
    const p = publisher(broker, mapping, (l) => logs.push(l));
    await run(p);
    await run(p);
    expect(p.membership).toBe('not-a-member');
    expect(broker.objects.has('cluster-a-checkout-0')).toBe(true);
    const warnings = logs.filter((l) => l.includes('warning'));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(
      /cluster "cluster-a" has no Cluster object in broker namespace broker, so it is not a member .* Publishing goes on.*moor acl withdraw --clusterset/,
    );
    // The gateway joins: its Cluster object appears.
    broker.clusters.set(
      'cluster-a',
      buildClusterObject({
        clusterId: 'cluster-a',
        namespace: NS,
        serviceCidrs: [],
        clusterCidrs: ['10.1.0.0/16'],
      }),
    );
    await run(p);
    await run(p);
    expect(p.membership).toBe('member');
    expect(logs.filter((l) => l.includes('is a member of the clusterset now'))).toHaveLength(1);
    // A credential without the Cluster role: said once, with the missing permission; publishing goes on.
    broker.state.clustersForbidden = true;
    mapping.set([row('a', '203.0.113.21')]);
    await run(p);
    await run(p);
    expect(p.membership).toBe('unknown');
    expect(logs.filter((l) => l.includes('cannot tell whether this cluster is a member'))).toEqual([
      expect.stringMatching(/may not list Cluster objects \(clusters.submariner.io\) in broker/),
    ]);
    expect(broker.objects.get('cluster-a-checkout-0')).toMatchObject({
      rules: [{ egressIP: '203.0.113.21' }],
    });
    await p.stop();
  });
});
