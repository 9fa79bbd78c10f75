// Test support: a strict in-memory broker namespace for the clusterset publisher and withdraw
// (EgressMapSummary list with a label selector, create, replace, conditional delete; our Cluster
// object's get). Any other request fails the test; the broker can go down, Clusters can be 403.
import { MoorError } from '../errors.ts';
import { KubeApiError } from '../k8s/rest.ts';
import type { WriteClient } from './object-writes.ts';

export const FAKE_NS = 'broker';
const BASE = `/apis/egress.moor.io/v1alpha1/namespaces/${FAKE_NS}/egressmapsummaries`;
const CLUSTERS = `/apis/submariner.io/v1/namespaces/${FAKE_NS}/clusters`;

export type FakeObject = {
  metadata: { name: string; labels?: Record<string, string>; resourceVersion?: string };
};

export function fakeBroker(initial: FakeObject[] = [], clusters: { metadata: { name: string } }[] = []) {
  const objects = new Map<string, FakeObject>(initial.map((o) => [o.metadata.name, o]));
  const clusterObjects = new Map<string, unknown>(clusters.map((c) => [c.metadata.name, c]));
  let rv = 1;
  const writes: string[] = [];
  const state = { down: false, clustersForbidden: false };
  const check = () => {
    if (state.down) throw new MoorError('broker-unreachable', 'connect ECONNREFUSED');
  };
  const nameOf = (path: string) => {
    if (!path.startsWith(`${BASE}/`)) throw new Error(`unexpected path ${path}`);
    return decodeURIComponent(path.slice(BASE.length + 1));
  };
  const client: WriteClient = {
    get: (async (path: string) => {
      check();
      const [base, query] = path.split('?');
      if (base?.startsWith(`${CLUSTERS}/`)) {
        if (state.clustersForbidden)
          throw new KubeApiError('GET', path, 403, { reason: 'Forbidden', message: 'cannot get clusters' });
        const c = clusterObjects.get(decodeURIComponent(base.slice(CLUSTERS.length + 1)));
        if (!c) throw new KubeApiError('GET', path, 404, { reason: 'NotFound', message: 'not found' });
        return structuredClone(c);
      }
      if (base !== BASE) throw new Error(`unexpected GET ${path}`);
      const sel = new URLSearchParams(query ?? '').get('labelSelector');
      const [k, v] = (sel ?? '').split('=');
      const items = [...objects.values()].filter((o) => !sel || o.metadata.labels?.[k as string] === v);
      return { items: structuredClone(items) };
    }) as WriteClient['get'],
    create: (async (_path: string, body: FakeObject) => {
      check();
      writes.push(`create ${body.metadata.name}`);
      objects.set(body.metadata.name, {
        ...body,
        metadata: { ...body.metadata, resourceVersion: String(++rv) },
      });
      return body;
    }) as WriteClient['create'],
    replace: (async (path: string, body: FakeObject) => {
      check();
      writes.push(`replace ${nameOf(path)}`);
      objects.set(nameOf(path), { ...body, metadata: { ...body.metadata, resourceVersion: String(++rv) } });
      return body;
    }) as WriteClient['replace'],
    delete: async (path: string, body?: unknown) => {
      check();
      const name = nameOf(path);
      const current = objects.get(name);
      if (!current) throw new KubeApiError('DELETE', path, 404, { reason: 'NotFound', message: 'not found' });
      const want = (body as { preconditions?: { resourceVersion?: string } } | undefined)?.preconditions
        ?.resourceVersion;
      if (want !== undefined && want !== current.metadata.resourceVersion)
        throw new KubeApiError('DELETE', path, 409, { reason: 'Conflict', message: 'precondition failed' });
      writes.push(`delete ${name}`);
      objects.delete(name);
    },
  };
  return { client, objects, clusters: clusterObjects, writes, state };
}
