// The LeasePort on a coordination.k8s.io/v1 Lease through the small REST client. Writes are
// conditional: a create fails with 409 if the Lease exists, a replace with 409 if its
// resourceVersion moved; both mean "someone else wrote first" (undefined), never an error.
import { brokerPaths, itemPath } from '../k8s/paths.ts';
import { isConflict, isNotFound, type KubeRestClient } from '../k8s/rest.ts';
import type { LeasePort, LeaseRecord, LeaseWrite } from './ports.ts';

/** The writer's renew deadline, on the Lease itself so that it is part of each record. */
export const RENEW_DEADLINE_ANNOTATION = 'moor.io/renew-deadline-ms';

interface LeaseObject {
  metadata?: { name?: string; resourceVersion?: string; annotations?: Record<string, string> };
  spec?: {
    holderIdentity?: string;
    leaseDurationSeconds?: number;
    acquireTime?: string;
    renewTime?: string;
    leaseTransitions?: number;
  };
}

export class KubeLease implements LeasePort {
  readonly #client: KubeRestClient;
  readonly #namespace: string;
  readonly #name: string;
  /** acquireTime of the records we handed out, to keep it across renewals. */
  readonly #acquired = new WeakMap<LeaseRecord, string>();

  constructor(client: KubeRestClient, namespace: string, name: string) {
    this.#client = client;
    this.#namespace = namespace;
    this.#name = name;
  }

  get description(): string {
    return `Lease ${this.#namespace}/${this.#name}`;
  }

  async read(signal: AbortSignal): Promise<LeaseRecord | undefined> {
    try {
      return this.#record(await this.#client.get<LeaseObject>(this.#path(), { signal }));
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }

  async write(next: LeaseWrite, expected: LeaseRecord | undefined, signal: AbortSignal) {
    const body = {
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      metadata: {
        name: this.#name,
        namespace: this.#namespace,
        annotations: { [RENEW_DEADLINE_ANNOTATION]: String(Math.ceil(next.renewDeadlineMs)) },
        ...(expected ? { resourceVersion: expected.version } : {}),
      },
      spec: {
        holderIdentity: next.holder,
        leaseDurationSeconds: Math.max(1, Math.ceil(next.leaseDurationMs / 1000)),
        acquireTime:
          next.acquire || !expected ? next.renewTime : (this.#acquired.get(expected) ?? next.renewTime),
        renewTime: next.renewTime,
        leaseTransitions:
          (expected?.transitions ?? 0) + (next.acquire && expected?.holder !== next.holder ? 1 : 0),
      },
    };
    try {
      const written = expected
        ? await this.#client.replace<LeaseObject>(this.#path(), body, { signal })
        : await this.#client.create<LeaseObject>(brokerPaths.leases(this.#namespace), body, { signal });
      return this.#record(written);
    } catch (err) {
      if (isConflict(err) || (expected && isNotFound(err))) return undefined;
      throw err;
    }
  }

  #path(): string {
    return itemPath(brokerPaths.leases(this.#namespace), this.#name);
  }

  #record(o: LeaseObject): LeaseRecord {
    const s = o.spec ?? {};
    const r: LeaseRecord = {
      holder: s.holderIdentity ?? '',
      version: o.metadata?.resourceVersion ?? '',
      renewTime: s.renewTime ?? '',
      leaseDurationMs: (s.leaseDurationSeconds ?? 0) * 1000,
      transitions: s.leaseTransitions ?? 0,
    };
    const d = o.metadata?.annotations?.[RENEW_DEADLINE_ANNOTATION];
    if (d !== undefined && /^\d{1,9}$/.test(d)) r.renewDeadlineMs = Number(d);
    if (s.acquireTime) this.#acquired.set(r, s.acquireTime);
    return r;
  }
}
