// Builders for broker objects in Lighthouse's format (spec §4.2, §4.3), shared by the Lighthouse
// reader's tests, the DNS tests, the fuzzer and the benchmark. They produce plain JSON exactly as
// the API server would return it.
import {
  ANNOTATION_PUBLISH_NOT_READY,
  ANNOTATION_USE_CLUSTERSET_IP,
  LABEL_IS_HEADLESS,
  LABEL_MANAGED_BY,
  LABEL_SERVICE_NAME,
  LABEL_SOURCE_CLUSTER,
  LABEL_SOURCE_NAMESPACE,
  MANAGED_BY_LIGHTHOUSE,
} from './lighthouseKeys.ts';

export const BROKER_NAMESPACE = 'submariner-k8s-broker';

/** A port as members write it; real lighthouse-agents omit `name` for a single unnamed port. */
export interface PortSpec {
  name?: string;
  protocol: string;
  port: number;
  appProtocol?: string;
}

export function tcp(name: string, port: number): PortSpec {
  return { name, protocol: 'TCP', port };
}

export function udp(name: string, port: number): PortSpec {
  return { name, protocol: 'UDP', port };
}

export interface ServiceImportSpec {
  service: string;
  namespace: string;
  type?: 'ClusterSetIP' | 'Headless';
  ips?: string[];
  ports?: PortSpec[];
  clusters?: string[];
  name?: string;
}

export function serviceImport(spec: ServiceImportSpec): Record<string, unknown> {
  const type = spec.type ?? 'ClusterSetIP';
  return {
    apiVersion: 'multicluster.x-k8s.io/v1alpha1',
    kind: 'ServiceImport',
    metadata: {
      name: spec.name ?? `${spec.service}-${spec.namespace}`,
      namespace: BROKER_NAMESPACE,
      annotations: {
        [LABEL_SERVICE_NAME]: spec.service,
        [LABEL_SOURCE_NAMESPACE]: spec.namespace,
        ...(type === 'ClusterSetIP' ? { [ANNOTATION_USE_CLUSTERSET_IP]: 'false' } : {}),
      },
    },
    spec: {
      type,
      ports: type === 'Headless' ? [] : (spec.ports ?? []),
      ...(spec.ips ? { ips: spec.ips } : {}),
      sessionAffinity: 'None',
    },
    status: { clusters: (spec.clusters ?? []).map((cluster) => ({ cluster })) },
  };
}

export interface EndpointSpec {
  addresses: string[];
  ready?: boolean;
  hostname?: string;
  targetRef?: { kind: string; name: string };
}

export interface EndpointSliceSpec {
  service: string;
  namespace: string;
  cluster: string;
  name?: string;
  headless?: boolean;
  publishNotReady?: boolean;
  ports?: PortSpec[];
  endpoints: EndpointSpec[];
}

let sliceCounter = 0;

export function endpointSlice(spec: EndpointSliceSpec): Record<string, unknown> {
  sliceCounter++;
  return {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: {
      name: spec.name ?? `${spec.service}-${sliceCounter.toString(36).padStart(5, 'x')}`,
      namespace: BROKER_NAMESPACE,
      labels: {
        [LABEL_MANAGED_BY]: MANAGED_BY_LIGHTHOUSE,
        [LABEL_SOURCE_NAMESPACE]: spec.namespace,
        [LABEL_SOURCE_CLUSTER]: spec.cluster,
        [LABEL_SERVICE_NAME]: spec.service,
        [LABEL_IS_HEADLESS]: String(spec.headless ?? false),
        'submariner-io/clusterID': spec.cluster,
        'submariner-io/originatingNamespace': spec.namespace,
      },
      annotations: {
        [ANNOTATION_PUBLISH_NOT_READY]: String(spec.publishNotReady ?? false),
        'lighthouse.submariner.io/globalnet-enabled': 'false',
      },
    },
    addressType: 'IPv4',
    ports: spec.ports ?? [],
    endpoints: spec.endpoints.map((e) => ({
      addresses: e.addresses,
      conditions: e.ready === undefined ? {} : { ready: e.ready },
      ...(e.hostname === undefined ? {} : { hostname: e.hostname }),
      ...(e.targetRef === undefined ? {} : { targetRef: e.targetRef }),
    })),
  };
}

/** The ClusterSetIP slice one cluster exports for a service: one endpoint, the service IP. */
export function serviceIpSlice(
  service: string,
  namespace: string,
  cluster: string,
  ip: string,
  ports: PortSpec[],
  ready = true,
): Record<string, unknown> {
  return endpointSlice({ service, namespace, cluster, ports, endpoints: [{ addresses: [ip], ready }] });
}
