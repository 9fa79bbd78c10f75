// A Submariner broker in a test API server, set up exactly as `subctl deploy-broker` does
// (spec §1.3): CRDs, the broker namespace, the admin and client Roles with their service
// accounts, the admin token Secret, and the Broker object. It returns what broker-info.subm
// carries.
import { randomBytes } from 'node:crypto';
import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CoreV1Api, CustomObjectsApi, type KubeConfig } from '@kubernetes/client-node';
import { encodeBrokerInfo } from '../../src/broker/brokerInfo.ts';
import { createObjects, readYamlDocuments, waitForCrdsEstablished, waitForTokenSecret } from './kube.ts';
import { createCrdRaw } from './raw-api.ts';

export const BROKER_NAMESPACE = 'submariner-k8s-broker';
const BROKER_DIR = join(import.meta.dirname, '..', '..', 'k8s', 'broker');

export interface BrokerFixture {
  namespace: string;
  /** The broker-admin service-account token (broker-info's ClientToken.data.token). */
  adminToken: string;
  /** PEM of the API server CA (ClientToken.data["ca.crt"]). */
  caCrt: string;
  /** The PSK string exactly as broker-info carries it: base64 of 48 random bytes. */
  psk: string;
}

export async function deployBroker(kc: KubeConfig, namespace = BROKER_NAMESPACE): Promise<BrokerFixture> {
  const crdFiles = readdirSync(join(BROKER_DIR, 'crds')).filter((f) => f.endsWith('.yaml'));
  const crds = crdFiles.flatMap((f) => readYamlDocuments(join(BROKER_DIR, 'crds', f)));
  // moor's own CRDs carry CEL rules, which client-node's models drop: those go in raw.
  const ours = (c: { metadata?: { name?: string } }) =>
    c.metadata?.name?.endsWith('.egress.moor.io') === true;
  await createObjects(
    kc,
    crds.filter((c) => !ours(c)),
  );
  for (const crd of crds.filter(ours)) await createCrdRaw(rawTarget(kc), crd);
  await waitForCrdsEstablished(
    kc,
    crds.map((c) => c.metadata?.name ?? ''),
  );

  const rbac = (f: string) =>
    readYamlDocuments(join(BROKER_DIR, 'rbac', f), {
      'namespace: placeholder': `namespace: ${namespace}`,
      'system:serviceaccounts:placeholder': `system:serviceaccounts:${namespace}`,
    });
  await createObjects(kc, [{ apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace } }]);
  await createObjects(
    kc,
    [
      'broker-admin-service_account.yaml',
      'broker-admin-role.yaml',
      'broker-admin-role_binding.yaml',
      'broker-client-service_account.yaml',
      'broker-client-role.yaml',
      'broker-client-role_binding.yaml',
      // moor's own: members publish and read EgressMapSummary objects.
      'moor-egress-summaries-role.yaml',
    ].flatMap(rbac),
    namespace,
  );

  // subctl's admin token Secret: filled in by the token controller of kube-controller-manager.
  const core = kc.makeApiClient(CoreV1Api);
  const secret = await core.createNamespacedSecret({
    namespace,
    body: {
      metadata: {
        generateName: 'submariner-k8s-broker-admin-token-',
        annotations: {
          'kubernetes.io/service-account.name': 'submariner-k8s-broker-admin',
          'kubernetes.io/created-by': 'subctl',
        },
      },
      type: 'kubernetes.io/service-account-token',
    },
  });
  const tokenData = await waitForTokenSecret(kc, namespace, secret.metadata?.name ?? '');

  await kc.makeApiClient(CustomObjectsApi).createNamespacedCustomObject({
    group: 'submariner.io',
    version: 'v1alpha1',
    namespace,
    plural: 'brokers',
    body: {
      apiVersion: 'submariner.io/v1alpha1',
      kind: 'Broker',
      metadata: { name: 'submariner-broker' },
      spec: { components: ['connectivity', 'service-discovery'], globalnetEnabled: false },
    },
  });

  return {
    namespace,
    adminToken: tokenData.token ?? '',
    caCrt: tokenData['ca.crt'] ?? '',
    psk: randomBytes(48).toString('base64'),
  };
}

/** What rawRequest needs, from a test KubeConfig (server, CA, bearer token). */
function rawTarget(kc: KubeConfig) {
  const cluster = kc.getCurrentCluster();
  return {
    localUrl: cluster?.server ?? '',
    caPem: Buffer.from(cluster?.caData ?? '', 'base64').toString('utf8'),
    adminToken: kc.getCurrentUser()?.token ?? '',
  };
}

/** Write a broker-info.subm for `broker` (as subctl deploy-broker would) and return its path. */
export function writeBrokerInfo(
  dir: string,
  brokerUrl: string,
  broker: BrokerFixture,
  token = broker.adminToken,
): string {
  const path = join(dir, `broker-info-${Math.random().toString(36).slice(2, 8)}.subm`);
  const text = encodeBrokerInfo({
    brokerURL: brokerUrl,
    caCrt: broker.caCrt,
    namespace: broker.namespace,
    token,
    ipsecPskBytes: new Uint8Array(Buffer.from(broker.psk, 'base64')),
    serviceDiscovery: true,
    components: ['connectivity', 'service-discovery'],
    customDomains: undefined,
  });
  writeFileSync(path, text, { mode: 0o600 });
  return path;
}
