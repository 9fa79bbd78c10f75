// A strict in-memory NftablesBasic on the data model. It follows nft's transaction semantics
// where our helper depends on them: the whole replace fails or succeeds; `flush table` empties
// chains but keeps set elements (so a missing `flush set` shows up as merged elements);
// redefining a set or base chain incompatibly without deleting it fails; deleting an object that
// does not exist fails; rules may only reference sets, maps and chains of the same table.
import { MoorError } from '../../errors.ts';
import { compareText } from '../text.ts';
import { type NftFamily, type NftTableSpec, priorityNumber } from './model.ts';
import type { NftCleanup, ObservedChain, ObservedMap, ObservedSet, ObservedTable } from './observe.ts';
import type { NftablesBasic } from './types.ts';

export type FakeNftCall =
  | { op: 'listTable'; table: string }
  | { op: 'replaceTable'; table: string; cleanup: NftCleanup }
  | { op: 'deleteTable'; table: string };

const fail = (message: string): MoorError => new MoorError('system', `nft: ${message}`);

export class FakeNftables implements NftablesBasic {
  readonly calls: FakeNftCall[] = [];
  #tables = new Map<string, ObservedTable>();

  async listTable(family: NftFamily, name: string): Promise<ObservedTable | undefined> {
    this.calls.push({ op: 'listTable', table: `${family} ${name}` });
    return structuredClone(this.#tables.get(`${family} ${name}`));
  }

  async replaceTable(spec: Required<NftTableSpec>, cleanup: NftCleanup): Promise<void> {
    const key = `${spec.family} ${spec.name}`;
    this.calls.push({ op: 'replaceTable', table: key, cleanup: structuredClone(cleanup) });
    // Work on a copy: a failure anywhere leaves the table as it was (one transaction).
    const t: ObservedTable = structuredClone(this.#tables.get(key)) ?? {
      family: spec.family,
      name: spec.name,
      sets: [],
      maps: [],
      chains: [],
    };
    for (const c of t.chains) c.rules = [];
    const find = <T extends { name: string }>(xs: T[], name: string, what: string): T => {
      const x = xs.find((y) => y.name === name);
      if (!x) throw fail(`${what} ${name}: No such file or directory`);
      return x;
    };
    for (const n of cleanup.deleteChains) {
      const gone = find(t.chains, n, 'delete chain');
      t.chains = t.chains.filter((x) => x !== gone);
    }
    for (const n of cleanup.deleteSets) {
      const gone = find(t.sets, n, 'delete set');
      t.sets = t.sets.filter((x) => x !== gone);
    }
    for (const n of cleanup.deleteMaps) {
      const gone = find(t.maps, n, 'delete map');
      t.maps = t.maps.filter((x) => x !== gone);
    }
    for (const n of cleanup.flushSets) find(t.sets, n, 'flush set').elements = [];
    for (const n of cleanup.flushMaps) find(t.maps, n, 'flush map').elements = [];
    for (const s of spec.sets) upsertSet(t, s.name, s.type, s.flags ?? [], s.elements ?? []);
    for (const m of spec.maps) upsertMap(t, m.name, m.type, m.valueType, m.flags ?? [], m.elements ?? []);
    for (const c of spec.chains) {
      const base = c.base && {
        type: c.base.type,
        hook: c.base.hook,
        priority: priorityNumber(c.base.priority),
        policy: c.base.policy ?? 'accept',
      };
      const have = t.chains.find((x) => x.name === c.name);
      if (have) {
        const sameHook =
          JSON.stringify({ ...have.base, policy: 0 }) === JSON.stringify({ ...base, policy: 0 });
        if (!sameHook)
          throw fail(`chain ${c.name}: cannot change type/hook/priority: Device or resource busy`);
        have.rules.push(...(c.rules ?? []));
        if (base) have.base = base;
      } else {
        const chain: ObservedChain = { name: c.name, rules: [...(c.rules ?? [])] };
        if (base) chain.base = base;
        t.chains.push(chain);
      }
    }
    checkReferences(t);
    this.#tables.set(key, t);
  }

  async deleteTable(family: NftFamily, name: string): Promise<void> {
    const key = `${family} ${name}`;
    this.calls.push({ op: 'deleteTable', table: key });
    if (!this.#tables.delete(key)) throw fail(`delete table ${key}: No such file or directory`);
  }

  // ---- test helpers ----

  mutatingCalls(): FakeNftCall[] {
    return this.calls.filter((c) => c.op !== 'listTable');
  }

  clearCalls(): void {
    this.calls.length = 0;
  }

  /** Simulate someone else changing the table (e.g. `nft delete rule`, `nft flush set`). */
  tamper(family: NftFamily, name: string, change: (t: ObservedTable) => void): void {
    const t = this.#tables.get(`${family} ${name}`);
    if (!t) throw new Error(`FakeNftables: no table ${family} ${name}`);
    change(t);
  }

  dump(): string {
    const lines: string[] = [];
    for (const [key, t] of [...this.#tables].sort(([a], [b]) => compareText(a, b))) {
      lines.push(`table ${key}`);
      for (const s of [...t.sets].sort((a, b) => compareText(a.name, b.name))) {
        lines.push(`  set ${s.name} ${s.type} [${s.flags.join(',')}] { ${s.elements.join(', ')} }`);
      }
      for (const m of [...t.maps].sort((a, b) => compareText(a.name, b.name))) {
        const els = m.elements.map(([k, v]) => `${k} : ${v}`).join(', ');
        lines.push(`  map ${m.name} ${m.type} : ${m.valueType} [${m.flags.join(',')}] { ${els} }`);
      }
      for (const c of [...t.chains].sort((a, b) => compareText(a.name, b.name))) {
        const b = c.base;
        lines.push(`  chain ${c.name}${b ? ` (${b.type} ${b.hook} ${b.priority} ${b.policy})` : ''}`);
        for (const r of c.rules) lines.push(`    ${r}`);
      }
    }
    return lines.join('\n');
  }
}

function upsertSet(t: ObservedTable, name: string, type: string, flags: string[], elements: string[]): void {
  if (t.maps.some((m) => m.name === name)) throw fail(`set ${name}: a map of that name exists: File exists`);
  const have: ObservedSet | undefined = t.sets.find((s) => s.name === name);
  const sorted = [...flags].sort();
  if (have && (have.type !== type || have.flags.join() !== sorted.join())) {
    throw fail(`set ${name}: exists with another type or flags: File exists`);
  }
  const set = have ?? { name, type, flags: sorted, elements: [] };
  set.elements = [...new Set([...set.elements, ...elements])].sort();
  if (!have) t.sets.push(set);
}

function upsertMap(
  t: ObservedTable,
  name: string,
  type: string,
  valueType: string,
  flags: string[],
  elements: [string, string][],
): void {
  if (t.sets.some((s) => s.name === name)) throw fail(`map ${name}: a set of that name exists: File exists`);
  const have: ObservedMap | undefined = t.maps.find((m) => m.name === name);
  const sorted = [...flags].sort();
  if (have && (have.type !== type || have.valueType !== valueType || have.flags.join() !== sorted.join())) {
    throw fail(`map ${name}: exists with another type or flags: File exists`);
  }
  const map = have ?? { name, type, valueType, flags: sorted, elements: [] };
  for (const [k, v] of elements) {
    const old = map.elements.find(([mk]) => mk === k);
    if (old && old[1] !== v) throw fail(`map ${name}: element ${k} maps to ${old[1]}: File exists`);
    if (!old) map.elements.push([k, v]);
  }
  map.elements.sort(([a], [b]) => compareText(a, b));
  if (!have) t.maps.push(map);
}

function checkReferences(t: ObservedTable): void {
  const named = new Set([...t.sets, ...t.maps].map((s) => s.name));
  const chains = new Set(t.chains.map((c) => c.name));
  for (const c of t.chains) {
    for (const r of c.rules) {
      for (const m of r.matchAll(/@([A-Za-z0-9_]+)/g)) {
        if (!named.has(m[1] ?? '')) throw fail(`rule "${r}": set @${m[1]}: No such file or directory`);
      }
      for (const m of r.matchAll(/\b(?:jump|goto) ([A-Za-z0-9_]+)/g)) {
        if (!chains.has(m[1] ?? '')) throw fail(`rule "${r}": chain ${m[1]}: No such file or directory`);
      }
    }
  }
}
