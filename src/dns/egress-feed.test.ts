import { describe, expect, it, vi } from 'vitest';
import { summaryObject } from '../acl/clusterset-objects.ts';
import { buildClusterObject } from '../broker/objects.ts';
import { MoorError } from '../errors.ts';
import type { ReflectorClient } from '../k8s/reflector.ts';
import { KubeApiError, type WatchEvent } from '../k8s/rest.ts';
import { MemorySnapshotStore } from '../reconcile/snapshot.ts';
import { ClustersetEgressFeed } from './egress-feed.ts';
import type { EgressRecordIndex } from './egress-records.ts';

const summary = (clusterID: string, label: string, ip: string) => {
  const o = summaryObject(
    {
      name: `${clusterID}-checkout-0`,
      clusterID,
      policy: 'checkout',
      destinations: [{ cidr: '10.50.0.0/24' }],
      rules: [
        { egressIP: ip, namespace: 'payments', workload: { kind: 'Deployment', name: 'checkout' }, pods: 1 },
      ],
    },
    'broker',
  ) as { metadata: Record<string, unknown> };
  o.metadata.labels = { 'submariner-io/clusterID': label };
  return o;
};

const cluster = (id: string): Record<string, unknown> => ({
  ...buildClusterObject({
    clusterId: id,
    namespace: 'broker',
    serviceCidrs: [],
    clusterCidrs: ['10.1.0.0/16'],
  }),
});

const CLUSTERS = '/apis/submariner.io/v1/namespaces/broker/clusters';
const SUMMARIES = '/apis/egress.moor.io/v1alpha1/namespaces/broker/egressmapsummaries';

/** A strict broker: lists of both collections, or down, or 403 on Clusters; watches can send events. */
function api(
  items: unknown[] | 'down',
  clusters: unknown[] | 'forbidden' = [cluster('cluster-a'), cluster('cluster-b'), cluster('cluster-c')],
) {
  const watchers = new Map<string, (e: WatchEvent) => void>();
  const client: ReflectorClient = {
    get: (async (path: string) => {
      if (items === 'down') throw new MoorError('broker-unreachable', 'connect ECONNREFUSED');
      const base = path.split('?')[0];
      if (base === SUMMARIES) return { items, metadata: { resourceVersion: '5' } };
      if (base !== CLUSTERS) throw new Error(`unexpected GET ${path}`);
      if (clusters === 'forbidden')
        throw new KubeApiError('GET', path, 403, { reason: 'Forbidden', message: 'cannot list clusters' });
      return { items: clusters, metadata: { resourceVersion: '5' } };
    }) as ReflectorClient['get'],
    watch: (path, onEvent, signal) => {
      watchers.set(path.split('?')[0] ?? path, onEvent);
      return new Promise<void>((resolve) =>
        signal.addEventListener('abort', () => resolve(), { once: true }),
      );
    },
  };
  return { client, send: (path: string, e: WatchEvent) => watchers.get(path)?.(e) };
}

async function until(check: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !check(); i++) await new Promise((r) => setTimeout(r, 5));
  expect(check()).toBe(true);
}

describe('ClustersetEgressFeed', () => {
  it('feeds names of trusted objects only, and serves them from the snapshot after a restart with the broker down', async () => {
    const snapshots = new MemorySnapshotStore();
    let index: EgressRecordIndex | undefined;
    const logs: string[] = [];
    const feed = new ClustersetEgressFeed({
      client: api([
        summary('cluster-a', 'cluster-a', '203.0.113.20'),
        summary('cluster-c', 'cluster-b', '192.0.2.66'),
      ]).client,
      namespace: 'broker',
      onIndex: (i) => {
        index = i;
      },
      log: (l) => logs.push(l),
      snapshots,
      debounceMs: 1,
    });
    feed.start();
    await until(() => index !== undefined);
    expect([...(index?.reverse ?? [])]).toEqual([
      ['20.113.0.203.in-addr.arpa', ['checkout.payments.cluster-a.egress.clusterset.local']],
    ]);
    expect(feed.stats()).toMatchObject({ ready: true, clusters: 1, reverseNames: 1, fromSnapshot: null });
    expect(feed.stats().problems.map((p) => p.code)).toEqual(['inconsistent-cluster-id']);
    expect(logs.some((l) => l.includes('ignoring EgressMapSummary/broker/cluster-c-checkout-0'))).toBe(true);
    await feed.stop();

    let again: EgressRecordIndex | undefined;
    const restarted = new ClustersetEgressFeed({
      client: api('down').client,
      namespace: 'broker',
      onIndex: (i) => {
        again = i;
      },
      log: () => {},
      snapshots,
    });
    restarted.start();
    expect(again?.forward.get('checkout.payments.cluster-a.egress.clusterset.local')).toEqual([
      '203.0.113.20',
    ]);
    expect(again?.reverse.has('66.2.0.192.in-addr.arpa')).toBe(false);
    expect(restarted.stats().fromSnapshot).not.toBeNull();
    await restarted.stop();
  });

  it('names only members: a cluster whose Cluster object is deleted loses its names, and gets them back when it rejoins', async () => {
    let index: EgressRecordIndex | undefined;
    const logs: string[] = [];
    const broker = api(
      [summary('cluster-a', 'cluster-a', '203.0.113.20'), summary('cluster-b', 'cluster-b', '198.51.100.7')],
      [cluster('cluster-a'), cluster('cluster-b')],
    );
    const feed = new ClustersetEgressFeed({
      client: broker.client,
      namespace: 'broker',
      onIndex: (i) => {
        index = i;
      },
      log: (l) => logs.push(l),
      debounceMs: 1,
    });
    feed.start();
    await feed.waitForSync(1000);
    await until(() => index?.reverse.size === 2);
    broker.send(CLUSTERS, { type: 'DELETED', object: cluster('cluster-b') });
    await until(() => index?.reverse.size === 1);
    expect([...(index?.reverse.keys() ?? [])]).toEqual(['20.113.0.203.in-addr.arpa']);
    expect(index?.forward.has('checkout.payments.cluster-b.egress.clusterset.local')).toBe(false);
    expect(feed.stats()).toMatchObject({
      clusters: 1,
      problems: [{ code: 'not-a-member', object: 'EgressMapSummary/broker/cluster-b-*' }],
    });
    expect(logs).toContainEqual(
      expect.stringMatching(
        /^egress names: ignoring EgressMapSummary\/broker\/cluster-b-\* \(not-a-member\): cluster "cluster-b" has no Cluster object on the broker/,
      ),
    );
    broker.send(CLUSTERS, { type: 'ADDED', object: cluster('cluster-b') });
    await until(() => index?.reverse.size === 2);
    expect(feed.stats().problems).toEqual([]);
    await feed.stop();
  });

  it('a credential that may not list Cluster objects answers nothing and says which permission is missing', async () => {
    const onIndex = vi.fn();
    const logs: string[] = [];
    const feed = new ClustersetEgressFeed({
      client: api([summary('cluster-a', 'cluster-a', '203.0.113.20')], 'forbidden').client,
      namespace: 'broker',
      onIndex,
      log: (l) => logs.push(l),
      debounceMs: 1,
    });
    feed.start();
    await until(() => logs.some((l) => l.includes('Cluster objects unreachable')));
    await new Promise((r) => setTimeout(r, 20));
    expect(onIndex).not.toHaveBeenCalled();
    expect(feed.stats().ready).toBe(false);
    expect(feed.stats().accessError).toMatch(
      /may not list Cluster objects .*\(fix: bind the credential's ServiceAccount to the Role submariner-k8s-broker-cluster/,
    );
    expect(logs.find((l) => l.includes('Cluster objects unreachable'))).toMatch(
      /may not list Cluster objects \(clusters.submariner.io\) in broker.*bind the credential's ServiceAccount to the Role submariner-k8s-broker-cluster/,
    );
    await feed.stop();
  });

  it('a snapshot without Cluster objects (an older moor) is not used: it cannot say who is a member', async () => {
    const snapshots = new MemorySnapshotStore();
    snapshots.save('egress', { summaries: [summary('cluster-a', 'cluster-a', '203.0.113.20')] }, new Date());
    const onIndex = vi.fn();
    const feed = new ClustersetEgressFeed({
      client: api('down').client,
      namespace: 'broker',
      onIndex,
      log: () => {},
      snapshots,
    });
    feed.start();
    expect(onIndex).not.toHaveBeenCalled();
    expect(feed.stats().ready).toBe(false);
    await feed.stop();
  });
});
