// The ACL mapping API (EgressMapSlice, EgressIPHistory) as the real API server sees it: the
// objects the planners write are accepted as written, and forged or inconsistent ones are refused.
import { join } from 'node:path';
import { CustomObjectsApi } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { advanceHistory } from '../../src/plan/egress-history.ts';
import { historyObject, readHistory } from '../../src/plan/egress-history-wire.ts';
import { flattenSlices, planMapping } from '../../src/plan/egress-mapping.ts';
import { mapSliceObject, readMapSlice } from '../../src/plan/egress-mapping-wire.ts';
import { type ApiServer, startApiServer, startEtcd } from '../harness/apiserver.ts';
import { readYamlDocuments, waitForCrdsEstablished } from '../harness/kube.ts';
import { createCrdRaw } from '../harness/raw-api.ts';
import { TestRun } from '../harness/run.ts';
import { buildTopology } from '../harness/topology.ts';

const CRD_DIR = join(import.meta.dirname, '..', '..', 'k8s', 'egress', 'crds');
const GROUP = 'egress.moor.io';
const VERSION = 'v1alpha1';

let run: TestRun;
let api: ApiServer;
let custom: CustomObjectsApi;

beforeAll(async () => {
  run = TestRun.start();
  const topo = await buildTopology(run, {
    hosts: { api: {}, lan: {} },
    links: [{ a: { host: 'api', address: '10.99.0.2/24' }, b: { host: 'lan', address: '10.99.0.1/24' } }],
  });
  const etcd = await startEtcd(run, topo.host('api'));
  api = await startApiServer(run, { name: 'acl', host: topo.host('api'), etcd, address: '10.99.0.2' });
  const kc = api.kubeConfig();
  const crds = ['egressmapslices.yaml', 'egressiphistories.yaml'].flatMap((f) =>
    readYamlDocuments(join(CRD_DIR, f)),
  );
  for (const crd of crds) await createCrdRaw(api, crd);
  await waitForCrdsEstablished(
    kc,
    crds.map((c) => c.metadata?.name ?? ''),
  );
  custom = kc.makeApiClient(CustomObjectsApi);
});

afterAll(async () => {
  await run?.cleanup();
});

const create = (plural: string, body: object) =>
  custom.createClusterCustomObject({ group: GROUP, version: VERSION, plural, body });
async function refused(plural: string, body: object): Promise<string> {
  try {
    await create(plural, body);
  } catch (err) {
    return String((err as { body?: unknown }).body ?? err);
  }
  throw new Error(`${plural}: the API server accepted a bad object`);
}

const T0 = '2026-12-01T08:00:00Z';
const mapping = planMapping({
  policies: [
    { name: 'checkout', gateway: 'east', destinations: [{ cidr: '10.50.0.0/24', except: ['10.50.0.9/32'] }] },
  ],
  assignments: Array.from({ length: 150 }, (_, i) => ({
    namespace: 'payments',
    name: `checkout-${String(i).padStart(3, '0')}`,
    node: 'w1',
    podIP: `10.42.1.${(i % 250) + 1}`,
    policy: 'checkout',
    egressIP: '203.0.113.20',
  })),
  workloads: new Map(),
  previous: [],
  now: T0,
});

describe('ACL mapping CRDs on the real API server', () => {
  it('accepts the slices the planner writes (100 + 50 entries) and reads them back unchanged', async () => {
    expect(mapping.slices.map((s) => s.entries.length)).toEqual([100, 50]);
    for (const s of mapping.slices) await create('egressmapslices', mapSliceObject(s));
    const list = (await custom.listClusterCustomObject({
      group: GROUP,
      version: VERSION,
      plural: 'egressmapslices',
    })) as {
      items: unknown[];
    };
    const read = list.items.map(readMapSlice);
    expect(read.every((r) => r.ok && r.skippedEntries === 0)).toBe(true);
    expect(read.map((r) => (r.ok ? r.slice : undefined))).toEqual(mapping.slices);
  });

  it('refuses a slice over 100 entries and a bad egress IP; a label that disagrees is stored but never read', async () => {
    const [first] = mapping.slices;
    if (!first) throw new Error('no slice');
    const big = mapSliceObject({
      ...first,
      name: 'big-0',
      entries: [...first.entries, { ...first.entries[0]!, pod: 'extra' }],
    });
    expect(await refused('egressmapslices', big)).toMatch(/entries.*100|Too many/i);
    // CEL cannot read labels: the API server stores a slice whose label disagrees, the reader refuses it.
    const forged = await create('egressmapslices', {
      ...mapSliceObject({ ...first, name: 'forged-0' }),
      policy: 'other',
    });
    expect(readMapSlice(forged)).toMatchObject({
      ok: false,
      problem: expect.stringContaining('does not match policy other'),
    });
    const badIp = mapSliceObject({
      ...first,
      name: 'badip-0',
      entries: [{ ...first.entries[0]!, egressIP: '300.1.1.1' }],
    });
    expect(await refused('egressmapslices', badIp)).toContain('must be an IPv4 address');
  });

  it('accepts the history the planner writes; refuses a name for another IP and a record ending before it starts', async () => {
    const opened = advanceHistory({
      previous: [],
      rows: flattenSlices(mapping.slices),
      now: T0,
      retentionMs: 86_400_000,
    });
    const closed = advanceHistory({
      previous: opened.histories,
      rows: [],
      now: '2026-12-01T09:00:00Z',
      retentionMs: 86_400_000,
    });
    const [h] = closed.histories;
    if (!h) throw new Error('no history');
    const created = await create('egressiphistories', historyObject(h));
    expect(readHistory(created)).toEqual({ ok: true, history: h, skippedRecords: 0 });
    const other = { ...historyObject(h), ip: '203.0.113.21' };
    expect(await refused('egressiphistories', { ...other, metadata: { name: 'ip-203-0-113-99' } })).toContain(
      'name must be ip-A-B-C-D',
    );
    const backwards = historyObject({
      ip: '203.0.113.22',
      records: [{ ...h.records[0]!, to: '2026-11-01T00:00:00Z' }],
    });
    expect(await refused('egressiphistories', backwards)).toContain('cannot end before it starts');
  });
});
