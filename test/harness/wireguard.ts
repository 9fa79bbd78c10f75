// Hand-configured WireGuard for harness tests (and as the baseline in benchmarks): wireguard-go
// in a namespace, configured with `wg`. The product's own WireGuard code lives in src/dataplane.
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { exec } from './exec.ts';
import { type RunningProcess, waitFor } from './process.ts';
import type { TestRun } from './run.ts';
import type { Host } from './topology.ts';

export interface KeyPair {
  privateKey: string;
  publicKey: string;
}

export async function wgKeyPair(): Promise<KeyPair> {
  const privateKey = (await exec(['wg', 'genkey'])).stdout.trim();
  const publicKey = (await exec(['wg', 'pubkey'], { input: `${privateKey}\n` })).stdout.trim();
  return { privateKey, publicKey };
}

export interface HandWgInterface {
  /** Machine-wide unique name (wireguard-go's control socket is shared by all namespaces). */
  name: string;
  keys: KeyPair;
  listenPort: number;
  process: RunningProcess;
}

/** Start wireguard-go in `host`, give it `address` (if any), and set its key and port. */
export async function startWireGuardGo(
  run: TestRun,
  host: Host,
  address: string | undefined,
  listenPort: number,
): Promise<HandWgInterface> {
  const name = run.ifName('w');
  const proc = host.spawn(`wireguard-go-${name}`, ['wireguard-go', '-f', name], {
    env: { LOG_LEVEL: 'error' },
  });
  await waitFor(
    `wireguard-go socket for ${name}`,
    () => (existsSync(`/var/run/wireguard/${name}.sock`) ? true : undefined),
    {
      process: proc,
    },
  );
  const keys = await wgKeyPair();
  const keyFile = join(run.dir, `${name}.key`);
  writeFileSync(keyFile, `${keys.privateKey}\n`, { mode: 0o600 });
  await host.exec(['wg', 'set', name, 'private-key', keyFile, 'listen-port', String(listenPort)]);
  if (address) await host.exec(['ip', 'addr', 'add', address, 'dev', name]);
  await host.exec(['ip', 'link', 'set', name, 'up']);
  return { name, keys, listenPort, process: proc };
}

export async function addWgPeer(
  host: Host,
  iface: HandWgInterface,
  peer: { publicKey: string; endpoint: string; allowedIps: string[]; keepalive?: number },
): Promise<void> {
  const argv = [
    'wg',
    'set',
    iface.name,
    'peer',
    peer.publicKey,
    'endpoint',
    peer.endpoint,
    'allowed-ips',
    peer.allowedIps.join(','),
  ];
  if (peer.keepalive) argv.push('persistent-keepalive', String(peer.keepalive));
  await host.exec(argv);
}
