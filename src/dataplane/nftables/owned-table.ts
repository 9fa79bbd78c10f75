// The one table we own. apply() reads the table fresh and rewrites it in one transaction unless
// both our desired text and the kernel's table are exactly what they were right after our last
// write; so identical input against an untouched table changes nothing, while any drift (a rule
// deleted by hand, a flushed set, the table gone) is repaired on the next apply. After a restart
// nothing is remembered, so the first apply always rewrites — atomically, so traffic never sees
// a partial table, though rule counters restart from zero.
import { type ApplyResult, attempt, emptyResult } from '../result.ts';
import { type NftFamily, type NftTableSpec, normalizeTableSpec } from './model.ts';
import { type ObservedTable, planCleanup, tableSignature } from './observe.ts';
import { renderTableBody } from './render.ts';
import type { NftablesBasic } from './types.ts';

export type NftChange = {
  op: 'replace-table';
  table: string;
  reason: 'not-applied-yet' | 'desired-changed' | 'kernel-changed';
};

export class OwnedTable {
  readonly family: NftFamily;
  readonly name: string;
  readonly #nft: NftablesBasic;
  #last: { body: string; signature: string } | undefined;

  constructor(nft: NftablesBasic, name: string, family: NftFamily = 'inet') {
    this.#nft = nft;
    this.family = family;
    this.name = name;
  }

  async apply(specInput: Omit<NftTableSpec, 'name' | 'family'>): Promise<ApplyResult<NftChange>> {
    const spec = normalizeTableSpec({ ...specInput, name: this.name, family: this.family });
    const body = renderTableBody(spec);
    const observed = await this.#nft.listTable(this.family, this.name);
    const signature = tableSignature(observed);
    const result = emptyResult<NftChange>();
    const last = this.#last;
    if (last && last.body === body && last.signature === signature) return result;
    const reason = !last ? 'not-applied-yet' : last.body !== body ? 'desired-changed' : 'kernel-changed';
    const change: NftChange = { op: 'replace-table', table: `${this.family} ${this.name}`, reason };
    this.#last = undefined;
    const ok = await attempt(result, change, () => this.#nft.replaceTable(spec, planCleanup(spec, observed)));
    if (ok) {
      // Read back what the kernel made of it: that is the state the next apply compares with.
      this.#last = { body, signature: tableSignature(await this.#nft.listTable(this.family, this.name)) };
    }
    return result;
  }

  list(): Promise<ObservedTable | undefined> {
    return this.#nft.listTable(this.family, this.name);
  }

  /** Idempotent: true when a table was deleted. */
  async delete(): Promise<boolean> {
    this.#last = undefined;
    if (!(await this.#nft.listTable(this.family, this.name))) return false;
    await this.#nft.deleteTable(this.family, this.name);
    return true;
  }
}
