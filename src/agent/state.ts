// The host's persistent state: what `moor join` decided and the agent needs after any restart.
// Everything here is secret or security-relevant (the member token, the PSK, the private key), so
// the directory is 0700 and every file 0600, written atomically (temp file + rename).
import { chmodSync, existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { STATUS_FILE } from '../cables/status.ts';
import { writeSecretFile } from '../dataplane/secret-file.ts';
import { MoorError } from '../errors.ts';

export const DEFAULT_STATE_DIR = '/var/lib/moor';
export const DEFAULT_INTERFACE = 'moor0';
export const DEFAULT_ADDRESS_POOL = '100.70.0.0/16';

export interface BrokerConnection {
  /** https://host:port */
  server: string;
  namespace: string;
  caPem: string;
  /** Skip TLS verification (only when joined with --check-broker-certificate=false). */
  insecure: boolean;
  /** The member credential (ServiceAccount cluster-<id>); never the broker admin token. */
  token: string;
}

export interface MemberCredential {
  serviceAccount: string;
  roleBinding: string;
  tokenSecret: string;
}

export interface HostState {
  version: 1;
  clusterId: string;
  broker: BrokerConnection;
  /** The broker PSK string as broker-info carries it; the WireGuard PSK is its SHA-256. */
  psk: string;
  serviceDiscovery: boolean;
  customDomains: string[];
  /** The host's clusterset addresses (bare IPv4); each is advertised as a /32. */
  addresses: string[];
  /** Names of the broker ConfigMaps that claim pool addresses, when allocated from a pool. */
  addressClaims: string[];
  privateIp: string;
  /** The private IP was detected, not given: the agent follows it when the underlay changes. */
  privateIpDetected?: boolean;
  publicIp: string;
  natEnabled: boolean;
  port: number;
  interfaceName: string;
  hostname: string;
  credential: MemberCredential;
}

export function stateDir(dir?: string): string {
  return dir ?? process.env.MOOR_STATE_DIR ?? DEFAULT_STATE_DIR;
}

const STATE_FILE = 'state.json';
const KEY_FILE = 'wireguard.key';

export { STATUS_FILE, writeSecretFile };

export function ensureStateDir(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  chmodSync(dir, 0o700);
}

export function hasState(dir: string): boolean {
  return existsSync(join(dir, STATE_FILE));
}

export function saveState(dir: string, state: HostState): void {
  ensureStateDir(dir);
  writeSecretFile(join(dir, STATE_FILE), `${JSON.stringify(state, null, 2)}\n`);
}

export function loadState(dir: string): HostState {
  const path = join(dir, STATE_FILE);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    throw new MoorError('not-found', `this host has not joined a clusterset (no ${path})`, {
      hint: 'run `moor join broker-info.subm --clusterid <id>` first, or pass --state-dir',
    });
  }
  let state: HostState;
  try {
    state = JSON.parse(text) as HostState;
  } catch (err) {
    throw new MoorError('invalid-input', `${path} is not valid JSON`, {
      cause: err,
      hint: 'the state file is damaged: run `moor leave` with broker-info.subm and join again',
    });
  }
  if (state.version !== 1 || typeof state.clusterId !== 'string' || !state.broker?.token) {
    throw new MoorError('invalid-input', `${path} is not a moor state file this version understands`, {
      hint: 'run `moor leave` with broker-info.subm and join again',
    });
  }
  return state;
}

export function savePrivateKey(dir: string, key: string): void {
  ensureStateDir(dir);
  writeSecretFile(join(dir, KEY_FILE), `${key}\n`);
}

export function loadPrivateKey(dir: string): string | undefined {
  try {
    return readFileSync(join(dir, KEY_FILE), 'utf8').trim();
  } catch {
    return undefined;
  }
}

export function removeState(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}
