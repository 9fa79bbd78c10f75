// What every WireGuard driver shares: the device is configured and read with the `wg` tool,
// whichever way its link came to exist. Drivers add only link creation and deletion.
import type { CommandRunner } from '../exec.ts';
import type {
  WgDump,
  WgInterfaceSettings,
  WgPeerSettings,
  WgPeerUpdate,
  WireGuardBasic,
  WireGuardDriverName,
} from './types.ts';
import { WgTool } from './wg-tool.ts';

export abstract class WgConfiguredDriver implements WireGuardBasic {
  abstract readonly driver: WireGuardDriverName;
  protected readonly wg: WgTool;

  constructor(runner: CommandRunner) {
    this.wg = new WgTool(runner);
  }

  abstract createInterface(name: string): Promise<void>;
  abstract deleteInterface(name: string): Promise<void>;

  showDump(name: string): Promise<WgDump | undefined> {
    return this.wg.showDump(name);
  }

  setInterface(name: string, settings: WgInterfaceSettings): Promise<void> {
    return this.wg.setInterface(name, settings);
  }

  setPeer(name: string, publicKey: string, settings: WgPeerSettings): Promise<void> {
    return this.wg.setPeer(name, publicKey, settings);
  }

  setPeers(name: string, peers: WgPeerUpdate[]): Promise<void> {
    return this.wg.setPeers(name, peers);
  }

  removePeer(name: string, publicKey: string): Promise<void> {
    return this.wg.removePeer(name, publicKey);
  }
}
