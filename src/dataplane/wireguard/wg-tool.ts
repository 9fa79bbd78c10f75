// The `wg` half of the Basic port, shared by both drivers (`wg` talks to kernel devices over
// generic netlink and to wireguard-go over its UAPI socket, with the same command line).
// Secrets travel in short-lived 0600 files (see secret-file.ts), never in argv (visible in /proc).
import { MoorError } from '../../errors.ts';
import { normalizeCidr, normalizeSocketAddress } from '../../net/ipv4.ts';
import { type CommandRunner, commandFailureOf } from '../exec.ts';
import { assertInterfaceName } from '../names.ts';
import { withSecretFiles } from '../secret-file.ts';
import { parseWgDump } from './dump.ts';
import { assertWireGuardKey } from './keys.ts';
import {
  MAX_PEERS_PER_WG_SET,
  type WgDump,
  type WgInterfaceSettings,
  type WgPeerSettings,
  type WgPeerUpdate,
} from './types.ts';

function assertPort(n: number, what: string): void {
  if (!Number.isInteger(n) || n < 0 || n > 65535) {
    throw new MoorError('invalid-argument', `${what} must be an integer 0-65535, got ${n}`);
  }
}

// Placeholder in argv for a secret, replaced by the path of its temporary file just before the
// run. NUL cannot occur in a real argument, so a placeholder is never confused with one.
const SECRET_SLOT = '\0secret';

/** Bytes of argv per run. Linux allows a quarter of the stack limit (2 MiB by default) for argv
 * and environment together; staying far below leaves room for any environment. */
const ARGV_BUDGET = 256 * 1024;

function argvBytes(args: string[]): number {
  return args.reduce((n, a) => n + Buffer.byteLength(a) + 1, 0);
}

/** The `peer …` words for one peer; a preshared key appears as SECRET_SLOT + the key. */
function peerArgs(publicKey: string, s: WgPeerSettings): string[] {
  assertWireGuardKey(publicKey, 'the peer public key');
  const argv = ['peer', publicKey];
  if (s.presharedKey === null) {
    argv.push('preshared-key', '/dev/null');
  } else if (s.presharedKey !== undefined) {
    assertWireGuardKey(s.presharedKey, 'the preshared key');
    argv.push('preshared-key', `${SECRET_SLOT}${s.presharedKey}`);
  }
  if (s.endpoint !== undefined) argv.push('endpoint', normalizeSocketAddress(s.endpoint));
  if (s.allowedIPs !== undefined) argv.push('allowed-ips', s.allowedIPs.map(normalizeCidr).join(','));
  if (s.persistentKeepalive !== undefined) {
    assertPort(s.persistentKeepalive, 'persistent keepalive');
    argv.push('persistent-keepalive', s.persistentKeepalive === 0 ? 'off' : String(s.persistentKeepalive));
  }
  return argv;
}

// `wg` cannot open a device that is absent: "No such device" for the kernel; for wireguard-go
// without its socket it falls back to netlink and says "Protocol not supported".
const DEVICE_MISSING = /Unable to access interface: (No such device|Protocol not supported)/;

export class WgTool {
  readonly #runner: CommandRunner;

  constructor(runner: CommandRunner) {
    this.#runner = runner;
  }

  async showDump(name: string): Promise<WgDump | undefined> {
    assertInterfaceName(name);
    try {
      const { stdout } = await this.#runner.run(['wg', 'show', name, 'dump']);
      return parseWgDump(stdout);
    } catch (err) {
      if (DEVICE_MISSING.test(commandFailureOf(err)?.stderr ?? '')) return undefined;
      throw err;
    }
  }

  async setInterface(name: string, s: WgInterfaceSettings): Promise<void> {
    assertInterfaceName(name);
    const argv = ['wg', 'set', name];
    const secrets: string[] = [];
    if (s.privateKey !== undefined) {
      assertWireGuardKey(s.privateKey, 'the private key');
      argv.push('private-key', SECRET_SLOT);
      secrets.push(s.privateKey);
    }
    if (s.listenPort !== undefined) {
      assertPort(s.listenPort, 'listen port');
      argv.push('listen-port', String(s.listenPort));
    }
    if (s.fwmark !== undefined) {
      if (!Number.isInteger(s.fwmark) || s.fwmark < 0 || s.fwmark > 0xffffffff) {
        throw new MoorError('invalid-argument', `fwmark must be a 32-bit unsigned integer, got ${s.fwmark}`);
      }
      argv.push('fwmark', s.fwmark === 0 ? 'off' : `0x${s.fwmark.toString(16)}`);
    }
    if (argv.length === 3) return;
    await this.#runWithSecrets(argv, secrets);
  }

  async setPeer(name: string, publicKey: string, s: WgPeerSettings): Promise<void> {
    await this.setPeers(name, [{ publicKey, settings: s }]);
  }

  /** `wg set <name> peer A … peer B …`, MAX_PEERS_PER_WG_SET peers (or ARGV_BUDGET bytes) a run.
   * Everything is validated before the first run, so bad input never half-applies a batch. */
  async setPeers(name: string, peers: WgPeerUpdate[]): Promise<void> {
    assertInterfaceName(name);
    const perPeer = peers.map((p) => peerArgs(p.publicKey, p.settings));
    let start = 0;
    while (start < perPeer.length) {
      let end = start;
      let bytes = 0;
      while (end < perPeer.length && end - start < MAX_PEERS_PER_WG_SET) {
        const size = argvBytes(perPeer[end] ?? []);
        // A single oversized peer still goes alone: wg, not us, should say what is wrong with it.
        if (end > start && bytes + size > ARGV_BUDGET) break;
        bytes += size;
        end++;
      }
      await this.#runPeers(name, perPeer.slice(start, end));
      start = end;
    }
  }

  /** One run; a preshared key shared by many peers (the usual case: one per cluster) is written
   * once, so the number of files is the number of distinct keys, not of peers. */
  async #runPeers(name: string, chunk: string[][]): Promise<void> {
    const secrets: string[] = [];
    const slotOf = new Map<string, number>();
    const argv = ['wg', 'set', name];
    for (const args of chunk) {
      for (const a of args) {
        if (!a.startsWith(SECRET_SLOT)) {
          argv.push(a);
          continue;
        }
        const secret = a.slice(SECRET_SLOT.length);
        let slot = slotOf.get(secret);
        if (slot === undefined) {
          slot = secrets.length;
          secrets.push(secret);
          slotOf.set(secret, slot);
        }
        argv.push(`${SECRET_SLOT}${slot}`);
      }
    }
    await withSecretFiles(secrets, async (paths) => {
      const real = argv.map((a) =>
        a.startsWith(SECRET_SLOT) ? (paths[Number(a.slice(SECRET_SLOT.length))] ?? a) : a,
      );
      await this.#runner.run(real);
    });
  }

  /** Replace each SECRET_SLOT in argv by the path of a temporary file holding the secret. */
  async #runWithSecrets(argv: string[], secrets: string[]): Promise<void> {
    await withSecretFiles(secrets, async (paths) => {
      let next = 0;
      const real = argv.map((a) => (a === SECRET_SLOT ? (paths[next++] ?? a) : a));
      await this.#runner.run(real);
    });
  }

  async removePeer(name: string, publicKey: string): Promise<void> {
    assertInterfaceName(name);
    assertWireGuardKey(publicKey, 'the peer public key');
    await this.#runner.run(['wg', 'set', name, 'peer', publicKey, 'remove']);
  }
}
