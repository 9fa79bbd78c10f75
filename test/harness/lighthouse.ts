// Service exports written exactly as a cluster's Lighthouse agent writes them to the broker.
import { CustomObjectsApi, DiscoveryV1Api, type KubeConfig } from '@kubernetes/client-node';
import { mergeServiceImport } from '../../src/broker/lighthouse.ts';
import { buildExportEndpointSlice } from '../../src/broker/lighthouseSlices.ts';

const TS = { east: '1700000000000000000', west: '1700000000000000001' } as const;

/** Write a service export exactly as the Lighthouse agent of `clusterId` would. */
export async function lighthouseExport(
  kc: KubeConfig,
  ns: string,
  clusterId: keyof typeof TS,
  service: { name: string; namespace: string },
  slice: { address: string } | { headless: Array<{ address: string; hostname: string }> },
): Promise<void> {
  const custom = kc.makeApiClient(CustomObjectsApi);
  const group = {
    group: 'multicluster.x-k8s.io',
    version: 'v1alpha1',
    namespace: ns,
    plural: 'serviceimports',
  };
  const name = `${service.name}-${service.namespace}`;
  const existing = await custom.getNamespacedCustomObject({ ...group, name }).catch(() => undefined);
  const headless = 'headless' in slice;
  const merged = mergeServiceImport(existing, {
    clusterId,
    serviceName: service.name,
    serviceNamespace: service.namespace,
    brokerNamespace: ns,
    type: headless ? 'Headless' : 'ClusterSetIP',
    ports: [{ name: 'http', protocol: 'TCP', port: 80 }],
    exportTimestampNs: TS[clusterId],
  });
  if (!merged.ok) throw new Error(merged.message);
  const { status, ...body } = merged.object as { status?: unknown } & Record<string, unknown>;
  const written = (
    existing
      ? await custom.replaceNamespacedCustomObject({ ...group, name, body })
      : await custom.createNamespacedCustomObject({ ...group, body })
  ) as { metadata: { resourceVersion: string } };
  await custom.replaceNamespacedCustomObjectStatus({
    ...group,
    name,
    body: {
      ...body,
      metadata: { ...(body.metadata as object), resourceVersion: written.metadata.resourceVersion },
      status,
    },
  });
  const eps = buildExportEndpointSlice({
    clusterId,
    brokerNamespace: ns,
    serviceName: service.name,
    serviceNamespace: service.namespace,
    ports: [{ name: 'http', protocol: 'TCP', port: 80 }],
    ...(headless
      ? { headless: { endpoints: slice.headless.map((e) => ({ ...e, ready: true })) } }
      : { address: slice.address, ready: true }),
  });
  await kc.makeApiClient(DiscoveryV1Api).createNamespacedEndpointSlice({ namespace: ns, body: eps as never });
}
