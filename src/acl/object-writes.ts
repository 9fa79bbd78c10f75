// Create, replace or delete API objects one by one, each failure a value (ApplyError), never
// thrown: the shared store step of the ACL writer (EgressMapSlices, EgressIPHistory) and the
// clusterset publisher (EgressMapSummary on the broker). Replace goes on the resourceVersion
// read; a create that meets an object made since (a previous leader) replaces it on its version.
import { MoorError } from '../errors.ts';
import { isConflict, isNotFound, type KubeRestClient } from '../k8s/rest.ts';
import type { ApplyError } from '../reconcile/outcome.ts';

export interface ObjectWrite {
  kind: string;
  /** Collection path; the object is `<collection>/<name>`. */
  collection: string;
  name: string;
  /** Absent: delete. */
  body?: Record<string, unknown>;
  /** The version read, for a replace (absent: create); for a delete only reported back as `base`. */
  resourceVersion?: string | undefined;
}

export type WriteClient = Pick<KubeRestClient, 'get' | 'create' | 'replace' | 'delete'>;

/** One object written: the API's answer (with its new resourceVersion), or deleted. */
export interface ObjectWritten {
  kind: string;
  name: string;
  /** The resourceVersion the write started from (undefined for a create). */
  base: string | undefined;
  /** The object as the API returned it; undefined when deleted. */
  object: { metadata?: { name?: string; resourceVersion?: string } } | undefined;
}

export async function applyObjectWrites(
  client: WriteClient,
  jobs: readonly ObjectWrite[],
  phase: string,
): Promise<{ applied: string[]; written: ObjectWritten[]; errors: ApplyError[] }> {
  const applied: string[] = [];
  const written: ObjectWritten[] = [];
  const errors: ApplyError[] = [];
  for (const job of jobs) {
    const path = `${job.collection}/${encodeURIComponent(job.name)}`;
    const withVersion = (rv: string | undefined) => ({
      ...job.body,
      metadata: { ...(job.body?.metadata as object), resourceVersion: rv },
    });
    try {
      let object: ObjectWritten['object'];
      if (!job.body) {
        await client.delete(path).catch((err: unknown) => {
          if (!isNotFound(err)) throw err;
        });
      } else if (job.resourceVersion !== undefined) {
        object = await client.replace(path, withVersion(job.resourceVersion));
      } else {
        try {
          object = await client.create(job.collection, job.body);
        } catch (err) {
          if (!isConflict(err)) throw err;
          const current = await client.get<{ metadata?: { resourceVersion?: string } }>(path);
          object = await client.replace(path, withVersion(current.metadata?.resourceVersion));
        }
      }
      applied.push(`${job.kind}/${job.name}`);
      written.push({ kind: job.kind, name: job.name, base: job.resourceVersion, object });
    } catch (err) {
      errors.push({
        code: err instanceof MoorError ? err.code : 'system',
        phase,
        object: `${job.kind}/${job.name}`,
        message: err instanceof Error ? err.message : String(err),
        hint: 'the next reconcile retries from a fresh read',
      });
    }
  }
  return { applied, written, errors };
}
