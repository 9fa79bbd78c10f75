// Small client-node helpers for tests: apply YAML documents, wait for CRDs, mint tokens.
import { readFileSync } from 'node:fs';
import {
  ApiextensionsV1Api,
  CoreV1Api,
  type KubeConfig,
  type KubernetesObject,
  KubernetesObjectApi,
  RbacAuthorizationV1Api,
} from '@kubernetes/client-node';
import { parseAllDocuments } from 'yaml';
import { waitFor } from './process.ts';

export function readYamlDocuments(
  path: string,
  replacements: Record<string, string> = {},
): KubernetesObject[] {
  let text = readFileSync(path, 'utf8');
  for (const [from, to] of Object.entries(replacements)) text = text.replaceAll(from, to);
  const docs = parseAllDocuments(text);
  for (const d of docs) if (d.errors.length > 0) throw new Error(`${path}: ${d.errors[0]?.message}`);
  return docs
    .map((d) => d.toJS() as KubernetesObject | null)
    .filter((o): o is KubernetesObject => o !== null && typeof o === 'object');
}

export async function createObjects(
  kc: KubeConfig,
  objects: KubernetesObject[],
  namespace?: string,
): Promise<void> {
  const client = KubernetesObjectApi.makeApiClient(kc);
  for (const obj of objects) {
    if (namespace && obj.kind !== 'Namespace' && obj.kind !== 'CustomResourceDefinition') {
      obj.metadata = { ...obj.metadata, namespace };
    }
    await client.create(obj);
  }
}

export async function waitForCrdsEstablished(kc: KubeConfig, names: string[]): Promise<void> {
  const api = kc.makeApiClient(ApiextensionsV1Api);
  for (const name of names) {
    await waitFor(`CRD ${name} established`, async () => {
      const crd = await api.readCustomResourceDefinition({ name });
      return crd.status?.conditions?.some((c) => c.type === 'Established' && c.status === 'True')
        ? true
        : undefined;
    });
  }
}

/**
 * Create a ServiceAccount bound to `role` (a Role in `namespace`, or with `kind: 'ClusterRole'`
 * a ClusterRole through a ClusterRoleBinding), and mint a token for it (TokenRequest).
 */
export async function serviceAccountWithRole(
  kc: KubeConfig,
  namespace: string,
  serviceAccount: string,
  role: string,
  kind: 'Role' | 'ClusterRole' = 'Role',
): Promise<string> {
  const core = kc.makeApiClient(CoreV1Api);
  const rbac = kc.makeApiClient(RbacAuthorizationV1Api);
  await core.createNamespacedServiceAccount({ namespace, body: { metadata: { name: serviceAccount } } });
  const binding = {
    metadata: {
      name: kind === 'Role' ? `${serviceAccount}-${role}` : `${namespace}-${serviceAccount}-${role}`,
    },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind, name: role },
    subjects: [{ kind: 'ServiceAccount', name: serviceAccount, namespace }],
  };
  if (kind === 'Role') await rbac.createNamespacedRoleBinding({ namespace, body: binding });
  else await rbac.createClusterRoleBinding({ body: binding });
  return mintToken(kc, namespace, serviceAccount);
}

export async function mintToken(
  kc: KubeConfig,
  namespace: string,
  serviceAccount: string,
  seconds = 3600,
): Promise<string> {
  const core = kc.makeApiClient(CoreV1Api);
  const tr = await core.createNamespacedServiceAccountToken({
    name: serviceAccount,
    namespace,
    body: { spec: { audiences: [], expirationSeconds: seconds } },
  });
  const token = tr.status?.token;
  if (!token) throw new Error(`TokenRequest for ${namespace}/${serviceAccount} returned no token`);
  return token;
}

/** Wait for the token controller to fill a service-account-token Secret; returns its data decoded. */
export async function waitForTokenSecret(
  kc: KubeConfig,
  namespace: string,
  name: string,
): Promise<Record<string, string>> {
  const core = kc.makeApiClient(CoreV1Api);
  return waitFor(`token Secret ${namespace}/${name}`, async () => {
    const s = await core.readNamespacedSecret({ name, namespace });
    if (!s.data?.token) return undefined;
    return Object.fromEntries(
      Object.entries(s.data).map(([k, v]) => [k, Buffer.from(v, 'base64').toString('utf8')]),
    );
  });
}
