// The real NftablesBasic over the `nft` program: the script goes to `nft -f -` on stdin, which
// nft applies as a single netlink batch (atomic).
import { type CommandRunner, commandFailureOf } from '../exec.ts';
import type { NftFamily, NftTableSpec } from './model.ts';
import { type NftCleanup, type ObservedTable, parseNftListing } from './observe.ts';
import { renderTableScript } from './render.ts';
import type { NftablesBasic } from './types.ts';

const NO_TABLE = /No such file or directory/;

export class NftCli implements NftablesBasic {
  readonly #runner: CommandRunner;

  constructor(runner: CommandRunner) {
    this.#runner = runner;
  }

  async listTable(family: NftFamily, name: string): Promise<ObservedTable | undefined> {
    try {
      const { stdout } = await this.#runner.run(['nft', '-j', 'list', 'table', family, name]);
      return parseNftListing(stdout, family, name);
    } catch (err) {
      if (NO_TABLE.test(commandFailureOf(err)?.stderr ?? '')) return undefined;
      throw err;
    }
  }

  async replaceTable(spec: Required<NftTableSpec>, cleanup: NftCleanup): Promise<void> {
    await this.#runner.run(['nft', '-f', '-'], { input: renderTableScript(spec, cleanup) });
  }

  async deleteTable(family: NftFamily, name: string): Promise<void> {
    await this.#runner.run(['nft', 'delete', 'table', family, name]);
  }
}
