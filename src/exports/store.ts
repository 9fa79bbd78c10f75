// The host's desired exports: what the operator asked `moor export` for, in
// `<state-dir>/exports.json`. The agent's health loop and every resync read it, so it is the single
// source of truth for what this pseudo-cluster exports; the broker is made to follow it. Written
// atomically with 0600 like every file in the state directory.
import { join } from 'node:path';
import {
  assertExportTimestamp,
  assertServiceIdentity,
  type ExportPort,
  validatedPorts,
} from '../broker/lighthouseInput.ts';
import { writeSecretFile } from '../dataplane/secret-file.ts';
import { MoorError } from '../errors.ts';
import { readInputFile } from '../inputFile.ts';

export const EXPORTS_FILE = 'exports.json';
/** A few hundred bytes per export; a file near this size is not one moor wrote. */
const MAX_EXPORTS_FILE_BYTES = 16 << 20;

/** tcp: ready while 127.0.0.1:<port> accepts a connection (default: first TCP port); none: always ready. */
export type ExportHealth = { type: 'tcp'; port?: number } | { type: 'none' };

export interface StoredExport {
  name: string;
  namespace: string;
  ports: ExportPort[];
  health: ExportHealth;
  /** Headless import with one endpoint named after this host (`<host>.<cluster>.<svc>.<ns>…`). */
  perHostNames: boolean;
  /** Unix ns of the first export, kept across re-exports: the oldest exporter wins ties upstream. */
  exportedAt: string;
}

export function exportKey(name: string, namespace: string): string {
  return `${namespace}/${name}`;
}

export function exportsPath(dir: string): string {
  return join(dir, EXPORTS_FILE);
}

/** The stored exports; none when the file does not exist yet. */
export function loadExports(dir: string): StoredExport[] {
  const path = exportsPath(dir);
  let text: string;
  try {
    text = readInputFile(path, {
      what: 'exports file',
      maxBytes: MAX_EXPORTS_FILE_BYTES,
      hint: `fix or delete ${path}, then run \`moor export\` again for each service`,
      missingCode: 'not-found',
    }).toString('utf8');
  } catch (err) {
    if (err instanceof MoorError && err.code === 'not-found') return [];
    throw err;
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw damaged(path, 'it is not valid JSON', err);
  }
  if (!Array.isArray(raw)) throw damaged(path, 'it is not a list of exports');
  return raw.map((item, index) => {
    try {
      return checkedExport(item);
    } catch (err) {
      throw damaged(path, `entry ${index}: ${err instanceof Error ? err.message : String(err)}`, err);
    }
  });
}

export function saveExports(dir: string, exports: readonly StoredExport[]): void {
  const sorted = [...exports].sort((a, b) =>
    exportKey(a.name, a.namespace).localeCompare(exportKey(b.name, b.namespace)),
  );
  writeSecretFile(exportsPath(dir), `${JSON.stringify(sorted, null, 2)}\n`);
}

export function findExport(
  exports: readonly StoredExport[],
  name: string,
  namespace: string,
): StoredExport | undefined {
  return exports.find((e) => e.name === name && e.namespace === namespace);
}

/** Adds or replaces one export; returns the entry it replaced, to restore on failure. */
export function upsertExport(dir: string, exp: StoredExport): StoredExport | undefined {
  const checked = checkedExport(exp);
  const exports = loadExports(dir);
  const previous = findExport(exports, checked.name, checked.namespace);
  saveExports(dir, [...exports.filter((e) => e !== previous), checked]);
  return previous;
}

/** Removes one export; returns it, or undefined when it was not stored (not an error). */
export function removeExport(dir: string, name: string, namespace: string): StoredExport | undefined {
  const exports = loadExports(dir);
  const previous = findExport(exports, name, namespace);
  if (previous !== undefined)
    saveExports(
      dir,
      exports.filter((e) => e !== previous),
    );
  return previous;
}

/** The port the tcp health check connects to, or undefined for `none`. */
export function healthPort(exp: Pick<StoredExport, 'health' | 'ports'>): number | undefined {
  if (exp.health.type === 'none') return undefined;
  return exp.health.port ?? exp.ports.find((p) => p.protocol === 'TCP')?.port;
}

/**
 * Checks an export as the operator or the file gives it and returns a clean copy. Everything a
 * broker write would reject later is refused here, before anything is stored.
 */
export function checkedExport(value: unknown): StoredExport {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) fail('it is not an object');
  const v = value as Record<string, unknown>;
  if (typeof v.name !== 'string' || typeof v.namespace !== 'string') fail('name or namespace is missing');
  assertServiceIdentity(v.name, v.namespace);
  if (!Array.isArray(v.ports) || !v.ports.every(isPortRecord)) fail('ports is not a list of ports');
  if (typeof v.perHostNames !== 'boolean') fail('perHostNames is not true or false');
  const ports = validatedPorts(v.ports as ExportPort[], { allowNone: v.perHostNames });
  if (typeof v.exportedAt !== 'string') fail('exportedAt is missing');
  assertExportTimestamp(v.exportedAt);
  const health = checkedHealth(v.health, ports);
  return {
    name: v.name,
    namespace: v.namespace,
    ports,
    health,
    perHostNames: v.perHostNames,
    exportedAt: v.exportedAt,
  };
}

function checkedHealth(value: unknown, ports: readonly ExportPort[]): ExportHealth {
  const h = typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : {};
  if (h.type === 'none') return { type: 'none' };
  if (h.type !== 'tcp') fail('health is not {type: "tcp"} or {type: "none"}');
  if (h.port === undefined) {
    if (!ports.some((p) => p.protocol === 'TCP')) {
      throw new MoorError('invalid-argument', 'the tcp health check has no port to connect to', {
        hint: 'the service has no TCP port: use --health tcp:PORT or --health none',
      });
    }
    return { type: 'tcp' };
  }
  if (typeof h.port !== 'number' || !Number.isInteger(h.port) || h.port < 1 || h.port > 65535) {
    throw new MoorError('invalid-argument', `health port ${String(h.port)} is not a port number`, {
      hint: 'use --health tcp:PORT with a port between 1 and 65535',
    });
  }
  return { type: 'tcp', port: h.port };
}

function isPortRecord(value: unknown): boolean {
  return (
    typeof value === 'object' && value !== null && typeof (value as { name?: unknown }).name === 'string'
  );
}

function fail(message: string): never {
  throw new MoorError('invalid-input', message);
}

function damaged(path: string, why: string, cause?: unknown): MoorError {
  return new MoorError('invalid-input', `${path} is damaged: ${why}`, {
    cause,
    hint: `fix or delete ${path}, then run \`moor export\` again for each service`,
  });
}
