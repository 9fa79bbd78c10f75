// The few REST verbs exports need on the broker, as an interface: KubeRestClient provides them in
// the product, and a strict in-memory fake in the unit tests.
import {
  LABEL_MANAGED_BY,
  LABEL_SERVICE_NAME,
  LABEL_SOURCE_NAMESPACE,
  MANAGED_BY_LIGHTHOUSE,
} from '../broker/lighthouseKeys.ts';
import { isJson, type Json } from '../broker/lighthouseRead.ts';
import { MoorError } from '../errors.ts';
import { isConflict, isNotFound, KubeRestClient } from '../k8s/rest.ts';

export interface BrokerApi {
  get(path: string): Promise<unknown>;
  create(path: string, body: unknown): Promise<unknown>;
  replace(path: string, body: unknown): Promise<unknown>;
  delete(path: string, body?: unknown): Promise<void>;
}

/** What exports need of the host's joined state; src/agent/state.ts `HostState` has these fields.
 * Declared here so exports depend on nothing above them. */
export interface ExportsMember {
  readonly clusterId: string;
  readonly hostname: string;
  readonly addresses: readonly string[];
  readonly broker: {
    readonly server: string;
    readonly namespace: string;
    readonly caPem: string;
    readonly insecure: boolean;
    /** The member credential (ServiceAccount cluster-<id>). */
    readonly token: string;
  };
}

/** A client with the host's member credential (never the broker admin token). Close it after use. */
export function memberClient(state: ExportsMember): KubeRestClient {
  const b = state.broker;
  return new KubeRestClient({
    server: b.server,
    token: b.token,
    insecure: b.insecure,
    ...(b.caPem ? { caPem: b.caPem } : {}),
  });
}

/** How often a read-modify-write is retried when another member wrote in between (409). */
export const CONFLICT_ATTEMPTS = 6;

export async function getIfExists(api: BrokerApi, path: string): Promise<Json | undefined> {
  try {
    const found = await api.get(path);
    return isJson(found) ? found : undefined;
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw err;
  }
}

/** DELETE; "already gone" is success. */
export async function deleteIfExists(api: BrokerApi, path: string, body?: unknown): Promise<boolean> {
  try {
    await api.delete(path, body);
    return true;
  } catch (err) {
    if (isNotFound(err)) return false;
    throw err;
  }
}

/** The items of a list response. */
export async function listItems(api: BrokerApi, path: string): Promise<Json[]> {
  const list = await api.get(path);
  const items = isJson(list) ? list.items : undefined;
  return Array.isArray(items) ? items.filter(isJson) : [];
}

export function withLabelSelector(collection: string, labels: Readonly<Record<string, string>>): string {
  const selector = Object.entries(labels)
    .map(([k, v]) => `${k}=${v}`)
    .join(',');
  return `${collection}?labelSelector=${encodeURIComponent(selector)}`;
}

/** The labels Lighthouse selects one service's broker EndpointSlices by (LH `setServicePorts`). */
export function serviceSliceLabels(serviceName: string, serviceNamespace: string): Record<string, string> {
  return {
    [LABEL_MANAGED_BY]: MANAGED_BY_LIGHTHOUSE,
    [LABEL_SOURCE_NAMESPACE]: serviceNamespace,
    [LABEL_SERVICE_NAME]: serviceName,
  };
}

export function resourceVersionOf(object: unknown): string | undefined {
  const metadata = isJson(object) ? object.metadata : undefined;
  const rv = isJson(metadata) ? metadata.resourceVersion : undefined;
  return typeof rv === 'string' ? rv : undefined;
}

/** Runs `attempt` again while it fails with a 409 conflict, up to CONFLICT_ATTEMPTS times. */
export async function retryOnConflict<T>(what: string, attempt: () => Promise<T>): Promise<T> {
  for (let i = 1; ; i += 1) {
    try {
      return await attempt();
    } catch (err) {
      if (!isConflict(err)) throw err;
      if (i >= CONFLICT_ATTEMPTS) {
        throw new MoorError('broker-conflict', `${what}: the broker object changed under us ${i} times`, {
          cause: err,
          hint: 'other members are writing the same object right now; run the command again',
        });
      }
    }
  }
}
