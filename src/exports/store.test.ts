import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MoorError } from '../errors.ts';
import {
  checkedExport,
  exportsPath,
  healthPort,
  loadExports,
  removeExport,
  type StoredExport,
  upsertExport,
} from './store.ts';

const db = (overrides: Partial<StoredExport> = {}): StoredExport => ({
  name: 'db',
  namespace: 'vms',
  ports: [{ name: '', protocol: 'TCP', port: 5432 }],
  health: { type: 'tcp' },
  perHostNames: false,
  exportedAt: '1800000000000000000',
  ...overrides,
});

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'moor-exports-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('export store', () => {
  it('is empty before the first export', () => {
    expect(loadExports(dir)).toEqual([]);
  });

  it('keeps exports in a 0600 file, replaced atomically, one entry per service', () => {
    expect(upsertExport(dir, db())).toBeUndefined();
    expect(upsertExport(dir, db({ name: 'web', ports: [{ name: 'http', protocol: 'TCP', port: 80 }] }))).toBe(
      undefined,
    );
    const changed = db({ ports: [{ name: '', protocol: 'TCP', port: 5433 }] });
    expect(upsertExport(dir, changed)).toEqual(db());
    expect(loadExports(dir)).toEqual([changed, expect.objectContaining({ name: 'web' })]);
    expect(statSync(exportsPath(dir)).mode & 0o777).toBe(0o600);
    expect(JSON.parse(readFileSync(exportsPath(dir), 'utf8'))).toHaveLength(2);
  });

  it('removes one export and says whether it was there', () => {
    upsertExport(dir, db());
    expect(removeExport(dir, 'db', 'vms')).toEqual(db());
    expect(removeExport(dir, 'db', 'vms')).toBeUndefined();
    expect(loadExports(dir)).toEqual([]);
  });

  it('names a damaged file and how to fix it', () => {
    writeFileSync(exportsPath(dir), '{"not": "a list"}');
    expect(() => loadExports(dir)).toThrow(/exports.json is damaged: it is not a list/);
    writeFileSync(exportsPath(dir), '[{"name": "db"}]');
    expect(() => loadExports(dir)).toThrow(/entry 0: name or namespace is missing/);
    writeFileSync(exportsPath(dir), 'nope');
    const err = (() => {
      try {
        loadExports(dir);
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(MoorError);
    expect((err as MoorError).hint).toMatch(/fix or delete/);
  });
});

describe('checkedExport', () => {
  it.each([
    [{ name: 'DB' }, /not a DNS-1123 label/],
    [{ namespace: 'kube-system' }, /import-namespace-deny-list/],
    [{ ports: [] }, /no ports/],
    [{ exportedAt: 'yesterday' }, /not Unix nanoseconds/],
    [{ health: { type: 'tcp' }, ports: [{ name: '', protocol: 'UDP', port: 53 }] }, /no port to connect to/],
    [{ health: { type: 'tcp', port: 70000 } }, /not a port number/],
  ] as Array<[Partial<StoredExport>, RegExp]>)('refuses %j', (overrides, message) => {
    expect(() => checkedExport(db(overrides))).toThrow(message);
  });

  it('allows no ports for per-host names', () => {
    expect(checkedExport(db({ ports: [], perHostNames: true, health: { type: 'none' } })).ports).toEqual([]);
  });

  it('health port: explicit, else the first TCP port, none for "none"', () => {
    expect(healthPort(db({ health: { type: 'tcp', port: 8080 } }))).toBe(8080);
    expect(
      healthPort(
        db({
          ports: [
            { name: 'dns', protocol: 'UDP', port: 53 },
            { name: 'api', protocol: 'TCP', port: 8053 },
          ],
        }),
      ),
    ).toBe(8053);
    expect(healthPort(db({ health: { type: 'none' } }))).toBeUndefined();
  });
});
