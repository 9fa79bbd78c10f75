import { describe, expect, it } from 'vitest';
import { MoorError } from '../errors.ts';
import type { MapRow } from '../plan/egress-mapping.ts';
import { summaryObject } from './clusterset-objects.ts';
import { ClustersetPublisher } from './clusterset-publisher.ts';
import type { MappingSnapshot } from './mapping-view.ts';
import type { WriteClient } from './object-writes.ts';

const NS = 'broker';
const BASE = `/apis/egress.moor.io/v1alpha1/namespaces/${NS}/egressmapsummaries`;

type Obj = { metadata: { name: string; labels?: Record<string, string>; resourceVersion?: string } };

/** An in-memory broker namespace: list with a label selector, create, replace, delete; can go down. */
function fakeBroker(initial: Obj[] = []) {
  const objects = new Map<string, Obj>(initial.map((o) => [o.metadata.name, o]));
  let rv = 1;
  const writes: string[] = [];
  const state = { down: false };
  const check = () => {
    if (state.down) throw new MoorError('broker-unreachable', 'connect ECONNREFUSED');
  };
  const nameOf = (path: string) => decodeURIComponent(path.slice(BASE.length + 1));
  const client: WriteClient = {
    get: (async (path: string) => {
      check();
      const [base, query] = path.split('?');
      if (base !== BASE) throw new Error(`unexpected GET ${path}`);
      const sel = new URLSearchParams(query ?? '').get('labelSelector');
      const [k, v] = (sel ?? '').split('=');
      const items = [...objects.values()].filter((o) => !sel || o.metadata.labels?.[k as string] === v);
      return { items: structuredClone(items) };
    }) as WriteClient['get'],
    create: (async (_path: string, body: Obj) => {
      check();
      writes.push(`create ${body.metadata.name}`);
      objects.set(body.metadata.name, {
        ...body,
        metadata: { ...body.metadata, resourceVersion: String(++rv) },
      });
      return body;
    }) as WriteClient['create'],
    replace: (async (path: string, body: Obj) => {
      check();
      writes.push(`replace ${nameOf(path)}`);
      objects.set(nameOf(path), { ...body, metadata: { ...body.metadata, resourceVersion: String(++rv) } });
      return body;
    }) as WriteClient['replace'],
    delete: async (path: string) => {
      check();
      writes.push(`delete ${nameOf(path)}`);
      objects.delete(nameOf(path));
    },
  };
  return { client, objects, writes, state };
}

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
    const p = new ClustersetPublisher({
      mapping,
      broker: broker.client,
      namespace: NS,
      clusterID: 'cluster-a',
      log: (l) => logs.push(l),
    });
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
    const p = new ClustersetPublisher({
      mapping,
      broker: broker.client,
      namespace: NS,
      clusterID: 'cluster-a',
      log: () => {},
      retryMs: 5,
    });
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
});
