// Kernel WireGuard: the link is an rtnetlink object (`ip link add … type wireguard`), configured
// with `wg`. Preferred whenever the module is available: faster and no process to supervise.
import { MoorError } from '../../errors.ts';
import { type CommandRunner, commandFailureOf } from '../exec.ts';
import { assertInterfaceName } from '../names.ts';
import { WgConfiguredDriver } from './wg-configured.ts';

export class KernelWireGuard extends WgConfiguredDriver {
  readonly driver = 'kernel' as const;
  readonly #runner: CommandRunner;

  constructor(runner: CommandRunner) {
    super(runner);
    this.#runner = runner;
  }

  async createInterface(name: string): Promise<void> {
    assertInterfaceName(name);
    await this.#runner.run(['ip', 'link', 'add', name, 'type', 'wireguard']);
  }

  async deleteInterface(name: string): Promise<void> {
    assertInterfaceName(name);
    try {
      await this.#runner.run(['ip', 'link', 'del', name]);
    } catch (err) {
      if (/Cannot find device|does not exist/.test(commandFailureOf(err)?.stderr ?? '')) {
        throw new MoorError('not-found', `WireGuard interface ${name} does not exist`, { cause: err });
      }
      throw err;
    }
  }
}
