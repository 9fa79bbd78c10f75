// The host's persistent state: what `moor join` decided and the agent needs after any restart.
// Everything here is secret or security-relevant (the member token, the PSK, the private key), so
// the directory is 0700 and every file 0600, written atomically (temp file + rename).
import { readFileSync, rmSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { z } from 'zod';
import { STATUS_FILE } from '../cables/status.ts';
import { writeSecretFile } from '../dataplane/secret-file.ts';
import { MoorError } from '../errors.ts';
import { readInputFile } from '../inputFile.ts';
import type { KubeRestOptions } from '../k8s/rest.ts';
import { errnoCode, systemError } from '../systemError.ts';
import { describeStateIssues, hostStateSchema } from './state-schema.ts';
import { prepareStateDir } from './stateDir.ts';

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

/** Client options for the stored broker credential (the agent, leave, `acl export --clusterset`). */
export function brokerClientOptions(b: BrokerConnection): KubeRestOptions {
  return { server: b.server, token: b.token, insecure: b.insecure, ...(b.caPem ? { caPem: b.caPem } : {}) };
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

/** The state directory, absolute: --state-dir, else $MOOR_STATE_DIR, else the default. */
export function stateDir(dir?: string): string {
  if (dir !== undefined && dir.trim() === '') {
    // resolve('') is the working directory, which `moor leave` would then delete.
    throw new MoorError('invalid-argument', '--state-dir is empty', {
      hint: 'give a directory, such as the default /var/lib/moor',
    });
  }
  return resolve(dir ?? (process.env.MOOR_STATE_DIR || DEFAULT_STATE_DIR));
}

const STATE_FILE = 'state.json';
/** A state file holds a token, a CA and a few addresses: kilobytes. Anything near this is not ours. */
const MAX_STATE_FILE_BYTES = 4 << 20;
const KEY_FILE = 'wireguard.key';

export { STATUS_FILE, writeSecretFile };

export function ensureStateDir(dir: string): void {
  prepareStateDir(dir);
}

/** Whether `dir` holds a state file; an unreadable directory is an error, not "not joined". */
export function hasState(dir: string): boolean {
  try {
    statSync(join(dir, STATE_FILE));
    return true;
  } catch (err) {
    const code = errnoCode(err);
    if (code === 'ENOENT') return false;
    if (code === 'ENOTDIR') {
      throw new MoorError('invalid-argument', `state directory ${dir} is not a directory`, {
        hint: 'pass the --state-dir this host joined with (default /var/lib/moor)',
      });
    }
    throw systemError(err, `cannot read the state directory ${dir}`, { subject: dir });
  }
}

export function saveState(dir: string, state: HostState): void {
  ensureStateDir(dir);
  writeSecretFile(join(dir, STATE_FILE), `${JSON.stringify(state, null, 2)}\n`);
}

export function loadState(dir: string): HostState {
  const path = join(dir, STATE_FILE);
  if (!hasState(dir)) {
    throw new MoorError('not-found', `this host has not joined a clusterset (no ${path})`, {
      hint: 'run `moor join broker-info.subm --clusterid <id>` first, or pass --state-dir',
    });
  }
  const damaged =
    'the state file is damaged: restore it from a backup, or run `moor leave broker-info.subm --clusterid <id>` and join again';
  const text = readInputFile(path, {
    what: 'state file',
    maxBytes: MAX_STATE_FILE_BYTES,
    hint: damaged,
  }).toString('utf8');
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
