// Idempotent object operations on top of the REST client: create-or-update that writes only when
// the content differs, and deletes that treat "already gone" as success.

import { itemPath } from './paths.ts';
import { isConflict, isNotFound, type KubeRestClient } from './rest.ts';

export interface NamedObject {
  metadata: {
    name: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    resourceVersion?: string;
  };
  [key: string]: unknown;
}

export type WriteOutcome = 'created' | 'updated' | 'unchanged';

/**
 * Make `desired` exist at `collection`. Only `labels`, `annotations` and the given top-level
 * fields (spec, data, …) are compared; server-set metadata is ignored. Retries once on a
 * resourceVersion conflict.
 */
export async function ensureObject(
  client: KubeRestClient,
  collection: string,
  desired: NamedObject,
): Promise<WriteOutcome> {
  const path = itemPath(collection, desired.metadata.name);
  for (let attempt = 0; ; attempt += 1) {
    let current: NamedObject | undefined;
    try {
      current = await client.get<NamedObject>(path);
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
    try {
      if (!current) {
        await client.create(collection, desired);
        return 'created';
      }
      if (sameContent(current, desired)) return 'unchanged';
      await client.replace(path, {
        ...current,
        ...desired,
        metadata: {
          ...current.metadata,
          ...desired.metadata,
          resourceVersion: current.metadata.resourceVersion,
        },
      });
      return 'updated';
    } catch (err) {
      if ((isConflict(err) || (isNotFound(err) && current)) && attempt < 3) continue;
      throw err;
    }
  }
}

export async function deleteIfExists(client: KubeRestClient, path: string): Promise<boolean> {
  try {
    await client.delete(path);
    return true;
  } catch (err) {
    if (isNotFound(err)) return false;
    throw err;
  }
}

export async function getIfExists<T = NamedObject>(
  client: KubeRestClient,
  path: string,
): Promise<T | undefined> {
  try {
    return await client.get<T>(path);
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw err;
  }
}

function sameContent(current: NamedObject, desired: NamedObject): boolean {
  for (const key of Object.keys(desired)) {
    if (key === 'metadata' || key === 'apiVersion' || key === 'kind') continue;
    if (!deepEqual(current[key], desired[key])) return false;
  }
  const labelsOk = deepEqual(
    pick(current.metadata.labels, desired.metadata.labels),
    desired.metadata.labels ?? {},
  );
  const annotationsOk = deepEqual(
    pick(current.metadata.annotations, desired.metadata.annotations),
    desired.metadata.annotations ?? {},
  );
  return labelsOk && annotationsOk;
}

function pick(
  from: Record<string, string> | undefined,
  keys: Record<string, string> | undefined,
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const k of Object.keys(keys ?? {})) if (from && k in from) out[k] = from[k] as string;
  return out;
}

export function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  if (ka.length !== kb.length) return false;
  return ka.every((k) => deepEqual((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
}
