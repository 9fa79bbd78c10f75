// The host's persistent state: what `moor join` decided and the agent needs after any restart.
// Everything here is secret or security-relevant (the member token, the PSK, the private key), so
// the directory is 0700 and every file 0600, written atomically (temp file + rename).
import { chmodSync, mkdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { z } from 'zod';
import { STATUS_FILE } from '../cables/status.ts';
import { writeSecretFile } from '../dataplane/secret-file.ts';
import { MoorError } from '../errors.ts';
import { describeStateIssues, hostStateSchema } from './state-schema.ts';

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

// The schema and the HostState interface describe the same thing; this fails to compile when
// one of them changes without the other.
const _sameShape = (s: z.infer<typeof hostStateSchema>): HostState => s;
void _sameShape;

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

/** Whether this host has joined; an unreadable state directory is an error, not "no". */
export function hasState(dir: string): boolean {
  const path = join(dir, STATE_FILE);
  try {
    statSync(path);
    return true;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return false;
    throw stateReadError(path, err);
  }
}

/** The error for a state file that exists (or may) but cannot be read. */
function stateReadError(path: string, err: unknown): MoorError {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'EACCES' || code === 'EPERM')
    return new MoorError('system', `cannot read ${path}: permission denied`, {
      cause: err,
      hint: `the state directory is readable by root only (0700): run the command as root, e.g. \`sudo moor …\``,
    });
  if (code === 'EISDIR')
    return new MoorError('invalid-input', `${path} is a directory, not moor's state file`, {
      cause: err,
      hint: `remove it, or pass the right --state-dir`,
    });
  return new MoorError('system', `cannot read ${path}: ${(err as Error).message}`, {
    cause: err,
    hint: 'check the state directory (--state-dir) and its permissions',
  });
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
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== 'ENOENT' && code !== 'ENOTDIR') throw stateReadError(path, err);
    throw new MoorError('not-found', `this host has not joined a clusterset (no ${path})`, {
      hint: 'run `moor join broker-info.subm --clusterid <id>` first, or pass --state-dir',
    });
  }
  const damaged =
    'the state file is damaged: restore it from a backup, or run `moor leave broker-info.subm` and join again';
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    // Not the parser's message: it quotes the file, and the file holds the member token.
    throw new MoorError('invalid-input', `${path} is not valid JSON`, {
      cause: err,
      hint: damaged,
    });
  }
  const result = hostStateSchema.safeParse(json, { reportInput: true });
  if (!result.success) {
    throw new MoorError(
      'invalid-input',
      `${path} is not a moor state file: ${describeStateIssues(result.error.issues)}`,
      {
        hint: damaged,
      },
    );
  }
  return result.data as HostState;
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
