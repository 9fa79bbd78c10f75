// Kernel WireGuard: the link is an rtnetlink object (`ip link add … type wireguard`), configured
// with `wg`. Preferred whenever the module is available: faster and no process to supervise.
import { MoorError } from '../../errors.ts';
import { type CommandRunner, commandFailureOf } from '../exec.ts';
import { assertInterfaceName } from '../names.ts';
import type { WgDump, WgInterfaceSettings, WgPeerSettings, WgPeerUpdate, WireGuardBasic } from './types.ts';
import { WgTool } from './wg-tool.ts';

export class KernelWireGuard implements WireGuardBasic {
  readonly driver = 'kernel' as const;
  readonly #runner: CommandRunner;
  readonly #wg: WgTool;

  constructor(runner: CommandRunner) {
    this.#runner = runner;
    this.#wg = new WgTool(runner);
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

  showDump(name: string): Promise<WgDump | undefined> {
    return this.#wg.showDump(name);
  }

  setInterface(name: string, settings: WgInterfaceSettings): Promise<void> {
    return this.#wg.setInterface(name, settings);
  }

  setPeer(name: string, publicKey: string, settings: WgPeerSettings): Promise<void> {
    return this.#wg.setPeer(name, publicKey, settings);
  }

  setPeers(name: string, peers: WgPeerUpdate[]): Promise<void> {
    return this.#wg.setPeers(name, peers);
  }

  removePeer(name: string, publicKey: string): Promise<void> {
    return this.#wg.removePeer(name, publicKey);
  }
}
