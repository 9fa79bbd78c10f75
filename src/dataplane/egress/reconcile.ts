// Idempotent egress helpers on the Basic ports: read fresh, change only what differs, report
// {applied, errors}. A VXLAN device whose identity (VNI, port, lower device, remote, MAC,
// learning) is wrong is re-created; its MTU and up state are set in place.
import { type ApplyResult, attempt, emptyResult } from '../result.ts';
import type { EgressLinkBasic, SysctlBasic, VxlanObserved, VxlanSpec } from './types.ts';

export type EgressLinkChange =
  | { op: 'vxlan-create'; name: string; reason: 'missing' | 'changed' }
  | { op: 'vxlan-delete'; name: string }
  | { op: 'set-mtu'; name: string; mtu: number }
  | { op: 'set-up'; name: string }
  | { op: 'neigh-replace'; dev: string; address: string; mac: string }
  | { op: 'fdb-replace'; dev: string; mac: string; dst: string }
  | { op: 'fdb-delete'; dev: string; mac: string; dst: string }
  | { op: 'sysctl'; key: string; value: string };

function sameIdentity(have: VxlanObserved, want: VxlanSpec): boolean {
  return (
    have.vni === want.vni &&
    have.port === want.port &&
    have.dev === want.dev &&
    have.remote === want.remote &&
    !have.learning &&
    (want.mac === undefined || have.mac === want.mac)
  );
}

/** Make the VXLAN devices named `prefix*` exactly `desired`. */
export async function reconcileVxlans(
  links: EgressLinkBasic,
  prefix: string,
  desired: readonly VxlanSpec[],
): Promise<ApplyResult<EgressLinkChange>> {
  const result = emptyResult<EgressLinkChange>();
  const present = new Map((await links.vxlanList(prefix)).map((v) => [v.name, v]));
  for (const want of desired) {
    let have = present.get(want.name);
    if (have && !sameIdentity(have, want)) {
      if (
        !(await attempt(result, { op: 'vxlan-delete', name: want.name }, () => links.linkDelete(want.name)))
      )
        continue;
      have = undefined;
      present.delete(want.name);
      if (
        !(await attempt(result, { op: 'vxlan-create', name: want.name, reason: 'changed' }, () =>
          links.vxlanCreate(want),
        ))
      )
        continue;
    } else if (!have) {
      if (
        !(await attempt(result, { op: 'vxlan-create', name: want.name, reason: 'missing' }, () =>
          links.vxlanCreate(want),
        ))
      )
        continue;
    }
    if (have && have.mtu !== want.mtu)
      await attempt(result, { op: 'set-mtu', name: want.name, mtu: want.mtu }, () =>
        links.linkSetMtu(want.name, want.mtu),
      );
    if (!have?.up) await attempt(result, { op: 'set-up', name: want.name }, () => links.linkSetUp(want.name));
  }
  const wanted = new Set(desired.map((d) => d.name));
  for (const name of present.keys())
    if (!wanted.has(name)) await attempt(result, { op: 'vxlan-delete', name }, () => links.linkDelete(name));
  return result;
}

/** Permanent neighbour entries; other entries on the devices are left alone. */
export async function reconcileNeighbours(
  links: EgressLinkBasic,
  desired: readonly { dev: string; address: string; mac: string }[],
): Promise<ApplyResult<EgressLinkChange>> {
  const result = emptyResult<EgressLinkChange>();
  const byDev = new Map<string, Awaited<ReturnType<EgressLinkBasic['neighList']>>>();
  for (const n of desired) {
    if (!byDev.has(n.dev)) byDev.set(n.dev, await links.neighList(n.dev));
    const have = byDev.get(n.dev)?.find((x) => x.address === n.address);
    if (have?.permanent && have.mac.toLowerCase() === n.mac.toLowerCase()) continue;
    await attempt(result, { op: 'neigh-replace', ...n }, () => links.neighReplace(n.dev, n.address, n.mac));
  }
  return result;
}

/** Make the FDB entries of `devices` whose MAC `manage` claims exactly `desired`; entries the
 * kernel or others made (the all-zero default, learned ones) are left alone. */
export async function reconcileFdb(
  links: EgressLinkBasic,
  devices: readonly string[],
  desired: readonly { dev: string; mac: string; dst: string }[],
  manage: (mac: string) => boolean,
): Promise<ApplyResult<EgressLinkChange>> {
  const result = emptyResult<EgressLinkChange>();
  for (const dev of devices) {
    const have = await links.fdbList(dev);
    const want = desired.filter((d) => d.dev === dev);
    for (const w of want) {
      if (have.some((h) => h.mac === w.mac && h.dst === w.dst && h.permanent)) continue;
      await attempt(result, { op: 'fdb-replace', ...w }, () => links.fdbReplace(dev, w.mac, w.dst));
    }
    for (const h of have) {
      if (!manage(h.mac) || want.some((w) => w.mac === h.mac && w.dst === h.dst)) continue;
      if (want.some((w) => w.mac === h.mac)) continue; // replaced in place above
      await attempt(result, { op: 'fdb-delete', dev, mac: h.mac, dst: h.dst }, () =>
        links.fdbDelete(dev, h.mac, h.dst),
      );
    }
  }
  return result;
}

export async function reconcileSysctls(
  sysctl: SysctlBasic,
  desired: readonly { key: string; value: string }[],
): Promise<ApplyResult<EgressLinkChange>> {
  const result = emptyResult<EgressLinkChange>();
  for (const { key, value } of desired) {
    if ((await sysctl.read(key)) === value) continue;
    await attempt(result, { op: 'sysctl', key, value }, () => sysctl.write(key, value));
  }
  return result;
}

export function describeEgressLinkChange(c: EgressLinkChange): string {
  switch (c.op) {
    case 'vxlan-create':
      return `create ${c.name} (${c.reason})`;
    case 'vxlan-delete':
      return `delete ${c.name}`;
    case 'set-mtu':
      return `${c.name} mtu ${c.mtu}`;
    case 'set-up':
      return `${c.name} up`;
    case 'neigh-replace':
      return `neigh ${c.address} ${c.mac} dev ${c.dev}`;
    case 'fdb-replace':
      return `fdb ${c.mac} dst ${c.dst} dev ${c.dev}`;
    case 'fdb-delete':
      return `fdb del ${c.mac} dst ${c.dst} dev ${c.dev}`;
    case 'sysctl':
      return `${c.key}=${c.value}`;
  }
}
