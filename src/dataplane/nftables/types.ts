// The nftables Basic port: list, replace (one transaction) and delete one table. The fake works
// on the same data model, never on script text (practices §11).
import type { NftFamily, NftTableSpec } from './model.ts';
import type { NftCleanup, ObservedTable } from './observe.ts';

export interface NftablesBasic {
  /** undefined when the table does not exist. */
  listTable(family: NftFamily, name: string): Promise<ObservedTable | undefined>;
  /** Create-if-missing, flush, `cleanup`, then define `spec`, all in one transaction. `spec` must
   * come from normalizeTableSpec. */
  replaceTable(spec: Required<NftTableSpec>, cleanup: NftCleanup): Promise<void>;
  deleteTable(family: NftFamily, name: string): Promise<void>;
}
