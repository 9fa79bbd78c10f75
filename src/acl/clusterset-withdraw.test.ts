import { describe, expect, it } from 'vitest';
import type { MoorError } from '../errors.ts';
import { summaryObject } from './clusterset-objects.ts';
import { FAKE_NS, type FakeObject, fakeBroker } from './clusterset-testing.ts';
import { withdrawSummaries } from './clusterset-withdraw.ts';

const object = (name: string, clusterID: string, label = clusterID): FakeObject => {
  const o = summaryObject(
    {
      name,
      clusterID,
      policy: 'web',
      destinations: [{ cidr: '10.50.0.0/24' }],
      rules: [
        { egressIP: '198.51.100.7', namespace: 'shop', workload: { kind: 'Deployment', name: 'f' }, pods: 1 },
      ],
    },
    FAKE_NS,
  ) as FakeObject;
  o.metadata.labels = { 'submariner-io/clusterID': label };
  o.metadata.resourceVersion = '3';
  return o;
};

describe('withdrawSummaries', () => {
  it('deletes only objects whose name and label carry our cluster ID; a second run finds nothing', async () => {
    const broker = fakeBroker([
      object('cluster-b-web-0', 'cluster-b'),
      object('cluster-b-web-1', 'cluster-b'),
      // Garbled content, but our name and label: ours (the publisher would replace it too).
      { ...object('cluster-b-junk-0', 'cluster-b'), clusterID: 'x' } as FakeObject,
      object('cluster-a-web-0', 'cluster-a'),
      // Named like ours, labelled for A: A's (forged or not), never ours to delete.
      object('cluster-b-forged-0', 'cluster-b', 'cluster-a'),
      // Labelled ours, named for another cluster: left alone and reported.
      object('cluster-a-squat-0', 'cluster-a', 'cluster-b'),
      // A longer cluster ID with our ID as prefix: not ours.
      object('cluster-bb-web-0', 'cluster-bb'),
    ]);
    const r = await withdrawSummaries(broker.client, FAKE_NS, 'cluster-b');
    expect(r).toEqual({
      deleted: [
        `EgressMapSummary/${FAKE_NS}/cluster-b-junk-0`,
        `EgressMapSummary/${FAKE_NS}/cluster-b-web-0`,
        `EgressMapSummary/${FAKE_NS}/cluster-b-web-1`,
      ],
      leftAlone: [`EgressMapSummary/${FAKE_NS}/cluster-a-squat-0`],
      failed: [],
    });
    expect([...broker.objects.keys()].sort()).toEqual([
      'cluster-a-squat-0',
      'cluster-a-web-0',
      'cluster-b-forged-0',
      'cluster-bb-web-0',
    ]);
    broker.writes.length = 0;
    expect(await withdrawSummaries(broker.client, FAKE_NS, 'cluster-b')).toEqual({
      deleted: [],
      leftAlone: [`EgressMapSummary/${FAKE_NS}/cluster-a-squat-0`],
      failed: [],
    });
    expect(broker.writes).toEqual([]);
  });

  it('an object changed since the list is not deleted on a stale look; a broker outage is an error', async () => {
    const broker = fakeBroker([object('cluster-b-web-0', 'cluster-b')]);
    const get = broker.client.get;
    broker.client.get = (async (path: string) => {
      const list = await get(path);
      // Someone rewrites the object between our list and our delete.
      broker.objects.set('cluster-b-web-0', {
        ...object('cluster-b-web-0', 'cluster-b'),
        metadata: { ...object('cluster-b-web-0', 'cluster-b').metadata, resourceVersion: '9' },
      });
      return list;
    }) as typeof get;
    const r = await withdrawSummaries(broker.client, FAKE_NS, 'cluster-b');
    expect(r.deleted).toEqual([]);
    expect(r.failed.map((f) => [f.object, (f.error as MoorError).message])).toEqual([
      [`EgressMapSummary/${FAKE_NS}/cluster-b-web-0`, expect.stringMatching(/precondition failed/)],
    ]);
    expect(broker.objects.has('cluster-b-web-0')).toBe(true);
    broker.state.down = true;
    await expect(withdrawSummaries(broker.client, FAKE_NS, 'cluster-b')).rejects.toThrow(/ECONNREFUSED/);
  });
});
