// What the kernel holds in our table, from `nft -j list table` (libnftables JSON schema v1),
// plus the two decisions derived from it: which objects must be deleted or flushed before the
// table is re-defined, and a signature that changes whenever anything in the table changes
// (except counters, handles and timeouts, which move on their own).
import { MoorError } from '../../errors.ts';
import { compareText } from '../text.ts';
import { type NftFamily, type NftTableSpec, priorityNumber } from './model.ts';

export interface ObservedSet {
  name: string;
  type: string;
  flags: string[];
  elements: string[];
}

export interface ObservedMap {
  name: string;
  type: string;
  valueType: string;
  flags: string[];
  elements: [string, string][];
}

export interface ObservedChain {
  name: string;
  base?: { type: string; hook: string; priority: number; policy: string };
  /** Canonical text of each rule (JSON of its expressions without counters, from the real
   * kernel; the rule text itself from the fake). Only compared for equality. */
  rules: string[];
}

export interface ObservedTable {
  family: NftFamily;
  name: string;
  sets: ObservedSet[];
  maps: ObservedMap[];
  chains: ObservedChain[];
}

/** What must happen inside the transaction before the table body is re-added. */
export interface NftCleanup {
  deleteChains: string[];
  deleteSets: string[];
  deleteMaps: string[];
  flushSets: string[];
  flushMaps: string[];
}

type Json = Record<string, unknown>;

export function parseNftListing(text: string, family: NftFamily, name: string): ObservedTable {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw new MoorError('system', 'unexpected output from "nft -j list table": not JSON', { cause: err });
  }
  const items = (doc as { nftables?: unknown }).nftables;
  if (!Array.isArray(items)) throw new MoorError('system', 'unexpected output from "nft -j list table"');
  const table: ObservedTable = { family, name, sets: [], maps: [], chains: [] };
  const chains = new Map<string, ObservedChain>();
  for (const item of items as Json[]) {
    const set = item.set as Json | undefined;
    const map = item.map as Json | undefined;
    const chain = item.chain as Json | undefined;
    const rule = item.rule as Json | undefined;
    if (set) {
      table.sets.push({
        name: String(set.name),
        type: typeText(set.type),
        flags: stringList(set.flags),
        elements: list(set.elem).map(elementText).sort(),
      });
    } else if (map) {
      table.maps.push({
        name: String(map.name),
        type: typeText(map.type),
        valueType: typeText(map.map),
        flags: stringList(map.flags),
        elements: list(map.elem)
          .map((e): [string, string] => {
            const [k, v] = Array.isArray(e) ? e : [e, undefined];
            return [elementText(k), elementText(v)];
          })
          .sort(([a], [b]) => compareText(a, b)),
      });
    } else if (chain) {
      const c: ObservedChain = { name: String(chain.name), rules: [] };
      if (chain.hook !== undefined) {
        c.base = {
          type: String(chain.type),
          hook: String(chain.hook),
          priority: Number(chain.prio),
          policy: String(chain.policy ?? 'accept'),
        };
      }
      chains.set(c.name, c);
      table.chains.push(c);
    } else if (rule) {
      chains.get(String(rule.chain))?.rules.push(JSON.stringify(stripVolatile(rule.expr)));
    }
  }
  return table;
}

function list(v: unknown): unknown[] {
  return Array.isArray(v) ? v : [];
}

function stringList(v: unknown): string[] {
  return list(typeof v === 'string' ? [v] : v)
    .map(String)
    .sort();
}

function typeText(v: unknown): string {
  return Array.isArray(v) ? v.map(String).join(' . ') : String(v);
}

/** Set elements in the text form our model uses; unknown shapes fall back to JSON (they then
 * never equal a desired element, which only costs an extra apply). */
export function elementText(v: unknown): string {
  if (typeof v === 'string' || typeof v === 'number') return String(v);
  if (typeof v !== 'object' || v === null) return JSON.stringify(v);
  const o = v as Json;
  if (o.prefix) {
    const p = o.prefix as Json;
    return `${String(p.addr)}/${String(p.len)}`;
  }
  if (Array.isArray(o.range)) return o.range.map(elementText).join('-');
  if (Array.isArray(o.concat)) return o.concat.map(elementText).join(' . ');
  if (o.elem) return elementText((o.elem as Json).val);
  if (o.jump) return `jump ${String((o.jump as Json).target)}`;
  if (o.goto) return `goto ${String((o.goto as Json).target)}`;
  for (const verdict of ['accept', 'drop', 'continue', 'return']) if (verdict in o) return verdict;
  return JSON.stringify(v);
}

function stripVolatile(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(stripVolatile);
  if (typeof v !== 'object' || v === null) return v;
  const out: Json = {};
  for (const [k, val] of Object.entries(v as Json)) {
    if (k === 'counter' && typeof val === 'object' && val !== null) out[k] = {};
    else if (k === 'handle' || k === 'expires' || k === 'used') continue;
    else out[k] = stripVolatile(val);
  }
  return out;
}

/** Stable text of everything that matters in the table; elements of dynamic/timeout sets are
 * left out because the packet path changes them. */
export function tableSignature(t: ObservedTable | undefined): string {
  if (!t) return '(absent)';
  const volatile = (flags: string[]): boolean => flags.includes('dynamic') || flags.includes('timeout');
  const byName = <T extends { name: string }>(xs: T[]): T[] =>
    [...xs].sort((a, b) => compareText(a.name, b.name));
  return JSON.stringify({
    sets: byName(t.sets).map((s) => ({ ...s, elements: volatile(s.flags) ? [] : s.elements })),
    maps: byName(t.maps).map((m) => ({ ...m, elements: volatile(m.flags) ? [] : m.elements })),
    chains: byName(t.chains),
  });
}

/** Objects that must go (no longer wanted, or redefined incompatibly, which nft refuses), and
 * existing sets/maps to flush (`flush table` empties chains but keeps set elements). */
export function planCleanup(
  desired: Required<NftTableSpec>,
  observed: ObservedTable | undefined,
): NftCleanup {
  const cleanup: NftCleanup = {
    deleteChains: [],
    deleteSets: [],
    deleteMaps: [],
    flushSets: [],
    flushMaps: [],
  };
  if (!observed) return cleanup;
  const sameFlags = (a: string[], b: string[] | undefined): boolean =>
    a.join(',') === [...(b ?? [])].sort().join(',');
  for (const s of observed.sets) {
    const want = desired.sets.find((d) => d.name === s.name);
    if (want && want.type === s.type && sameFlags(s.flags, want.flags)) cleanup.flushSets.push(s.name);
    else cleanup.deleteSets.push(s.name);
  }
  for (const m of observed.maps) {
    const want = desired.maps.find((d) => d.name === m.name);
    if (want && want.type === m.type && want.valueType === m.valueType && sameFlags(m.flags, want.flags)) {
      cleanup.flushMaps.push(m.name);
    } else {
      cleanup.deleteMaps.push(m.name);
    }
  }
  for (const c of observed.chains) {
    const want = desired.chains.find((d) => d.name === c.name);
    const compatible =
      want !== undefined &&
      (want.base === undefined
        ? c.base === undefined
        : c.base !== undefined &&
          c.base.type === want.base.type &&
          c.base.hook === want.base.hook &&
          c.base.priority === priorityNumber(want.base.priority));
    if (!compatible) cleanup.deleteChains.push(c.name);
  }
  return cleanup;
}
