// The ACL mapping the controller wrote on an egress cluster's API server, for e2e tests: the
// EgressMapSlice entries as the one wire reader (src/plan/egress-mapping-wire.ts) reads them.
import { CustomObjectsApi, type KubeConfig } from '@kubernetes/client-node';
import { type HistoryRecord, historyName } from '../../src/plan/egress-history.ts';
import { readHistory } from '../../src/plan/egress-history-wire.ts';
import type { MapEntry } from '../../src/plan/egress-mapping.ts';
import { readMapSlice } from '../../src/plan/egress-mapping-wire.ts';
import { GROUP, VERSION } from './egress-cluster.ts';

export type MappedPod = MapEntry & { policy: string; slice: string };

/** Every entry of every EgressMapSlice the reader accepts; a refused slice throws (tests write none). */
export async function mappedPods(kc: KubeConfig): Promise<MappedPod[]> {
  const custom = kc.makeApiClient(CustomObjectsApi);
  const list = (await custom.listClusterCustomObject({
    group: GROUP,
    version: VERSION,
    plural: 'egressmapslices',
  })) as { items: unknown[] };
  return list.items.flatMap((o) => {
    const r = readMapSlice(o);
    if (!r.ok) throw new Error(`EgressMapSlice ${r.name} refused: ${r.problem}`);
    return r.slice.entries.map((e) => ({ ...e, policy: r.slice.policy, slice: r.slice.name }));
  });
}

/** The history records of one egress IP, as the one wire reader reads them ([] when none). */
export async function ipHistory(kc: KubeConfig, ip: string): Promise<HistoryRecord[]> {
  const custom = kc.makeApiClient(CustomObjectsApi);
  const o = await custom
    .getClusterCustomObject({
      group: GROUP,
      version: VERSION,
      plural: 'egressiphistories',
      name: historyName(ip),
    })
    .catch(() => undefined);
  if (o === undefined) return [];
  const r = readHistory(o);
  if (!r.ok) throw new Error(`EgressIPHistory for ${ip} refused: ${r.problem}`);
  return r.history.records;
}
