import { describe, expect, it } from 'vitest';
import { summaryObject } from '../acl/clusterset-objects.ts';
import { MoorError } from '../errors.ts';
import type { ReflectorClient } from '../k8s/reflector.ts';
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

function api(items: unknown[] | 'down'): ReflectorClient {
  return {
    get: (async () => {
      if (items === 'down') throw new MoorError('broker-unreachable', 'connect ECONNREFUSED');
      return { items, metadata: { resourceVersion: '5' } };
    }) as ReflectorClient['get'],
    watch: (_path, _onEvent, signal) =>
      new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true })),
  };
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
      ]),
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
      client: api('down'),
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
});
