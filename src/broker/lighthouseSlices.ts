// The Lighthouse EndpointSlice a pseudo-cluster writes straight into the broker namespace to export
// a host service (spec §4.3, §4.4 step 2). A real agent writes it in the service's namespace and
// admiral copies it up; we write the broker copy ourselves, so it carries the two labels admiral
// adds. Remote agents copy it into their `<ns>` and CoreDNS answers from it.
import { createHash } from 'node:crypto';
import { MoorError } from '../errors.ts';
import { contains, formatIpv4, tryParseCidr, tryParseIpv4 } from '../net/ipv4.ts';
import {
  assertBrokerNamespace,
  assertServiceIdentity,
  type ExportPort,
  isDns1123Label,
  type PortProtocol,
  validatedPorts,
} from './lighthouseInput.ts';
import {
  ANNOTATION_GLOBALNET_ENABLED,
  ANNOTATION_PUBLISH_NOT_READY,
  DISCOVERY_API_VERSION,
  LABEL_IS_HEADLESS,
  LABEL_MANAGED_BY,
  LABEL_ORIGINATING_NAMESPACE,
  LABEL_SERVICE_NAME,
  LABEL_SOURCE_CLUSTER,
  LABEL_SOURCE_NAME,
  LABEL_SOURCE_NAMESPACE,
  MANAGED_BY_LIGHTHOUSE,
} from './lighthouseKeys.ts';
import { assertValidClusterId, CLUSTER_ID_LABEL } from './names.ts';

/** Every field present: CoreDNS dereferences name, protocol and port without nil checks. */
export interface SlicePort {
  name: string;
  protocol: PortProtocol;
  port: number;
  appProtocol?: string;
}

export interface SliceEndpoint {
  addresses: [string];
  hostname?: string;
  conditions: { ready: boolean };
}

export interface ExportEndpointSlice {
  apiVersion: typeof DISCOVERY_API_VERSION;
  kind: 'EndpointSlice';
  metadata: {
    name: string;
    namespace: string;
    labels: Record<string, string>;
    annotations: Record<string, string>;
  };
  addressType: 'IPv4';
  endpoints: SliceEndpoint[];
  ports: SlicePort[];
}

export interface HeadlessEndpointInput {
  address: string;
  /** Becomes `<hostname>.<cluster>.<svc>.<ns>.svc.clusterset.local`, so a DNS-1123 label. */
  hostname: string;
  ready: boolean;
}

interface ExportSliceCommon {
  clusterId: string;
  brokerNamespace: string;
  serviceName: string;
  serviceNamespace: string;
  ports: readonly ExportPort[];
  /** Headless: also publish endpoints that are not ready. Default false, as for a Service. */
  publishNotReadyAddresses?: boolean;
  /** When given, every address must lie inside them: remote gateways route nothing else to us. */
  advertisedSubnets?: readonly string[];
}

/** ClusterSetIP: one endpoint, our host IP; or Headless: one endpoint per host name. */
export type ExportEndpointSliceInput = ExportSliceCommon &
  (
    | { address: string; ready: boolean; headless?: undefined }
    | { headless: { endpoints: readonly HeadlessEndpointInput[] }; address?: undefined; ready?: undefined }
  );

/** discovery/v1 validation limit on `endpoints`. */
export const MAX_SLICE_ENDPOINTS = 1000;
const NAME_HASH_LENGTH = 10;

/**
 * `<svc>-<ns>-<hash>`, hash = first hex digits of sha256("<clusterId>/<ns>/<svc>").
 * Real agents use generateName `<svc>-` (random); we want a name we can compute, so a re-run PUTs
 * the same object instead of piling up duplicates and needs no list to find it. The hash keeps
 * names of different clusters apart in the shared broker namespace and in remote `<ns>` copies,
 * and it cannot end in `-<clusterId>`, which Lighthouse would read as a pre-0.16 legacy slice
 * (checked anyway). At most 63 + 63 + 12 characters of [a-z0-9-]: a valid DNS-1123 subdomain.
 */
export function exportEndpointSliceName(
  clusterId: string,
  serviceName: string,
  serviceNamespace: string,
): string {
  const digest = createHash('sha256').update(`${clusterId}/${serviceNamespace}/${serviceName}`).digest('hex');
  const name = (length: number) => `${serviceName}-${serviceNamespace}-${digest.slice(0, length)}`;
  const short = name(NAME_HASH_LENGTH);
  return short.endsWith(`-${clusterId}`) ? name(NAME_HASH_LENGTH + 2) : short;
}

export function buildExportEndpointSlice(input: ExportEndpointSliceInput): ExportEndpointSlice {
  assertValidClusterId(input.clusterId);
  assertBrokerNamespace(input.brokerNamespace);
  assertServiceIdentity(input.serviceName, input.serviceNamespace);
  const headless = input.headless !== undefined;
  const ports: SlicePort[] = validatedPorts(input.ports, { allowNone: headless });
  const subnets = (input.advertisedSubnets ?? []).map((text) => {
    const parsed = tryParseCidr(text, { allowHostBits: true });
    if (!parsed.ok) invalid(`advertised subnet ${text}: ${parsed.error}`, 'pass the subnets moor advertises');
    return parsed.value;
  });
  const address = (text: string): [string] => {
    const parsed = tryParseIpv4(text);
    if (!parsed.ok)
      invalid(`service address: ${parsed.error}`, 'give the IPv4 address the service listens on');
    if (subnets.length > 0 && !subnets.some((s) => contains(s, parsed.value))) {
      invalid(
        `service address ${text} is not inside the advertised subnets`,
        'remote clusters only route advertised subnets to this host; use one of its clusterset addresses',
      );
    }
    return [formatIpv4(parsed.value)];
  };

  let endpoints: SliceEndpoint[];
  if (input.headless === undefined) {
    endpoints = [{ addresses: address(input.address), conditions: { ready: input.ready === true } }];
  } else {
    if (input.headless.endpoints.length > MAX_SLICE_ENDPOINTS) {
      invalid(
        `the headless service has ${input.headless.endpoints.length} endpoints`,
        `an EndpointSlice holds at most ${MAX_SLICE_ENDPOINTS}`,
      );
    }
    endpoints = input.headless.endpoints.map((e) => {
      if (!isDns1123Label(e.hostname)) {
        invalid(
          `host name ${JSON.stringify(e.hostname)} is not a DNS-1123 label`,
          'it becomes <host>.<cluster>.<svc>.<ns>.svc.clusterset.local; use lower-case letters, digits and "-"',
        );
      }
      return { addresses: address(e.address), hostname: e.hostname, conditions: { ready: e.ready === true } };
    });
  }

  const labels: Record<string, string> = {
    [LABEL_MANAGED_BY]: MANAGED_BY_LIGHTHOUSE,
    [LABEL_SOURCE_NAMESPACE]: input.serviceNamespace,
    [LABEL_SOURCE_CLUSTER]: input.clusterId,
    [LABEL_SERVICE_NAME]: input.serviceName,
    [LABEL_IS_HEADLESS]: String(headless),
  };
  // A real headless slice names its source Kubernetes EndpointSlice here; we have none, and the
  // service name is a stable, valid label value that identifies our single slice per service.
  if (headless) labels[LABEL_SOURCE_NAME] = input.serviceName;
  // What admiral's broker syncer adds on the way up (spec §2.6, §4.3).
  labels[CLUSTER_ID_LABEL] = input.clusterId;
  labels[LABEL_ORIGINATING_NAMESPACE] = input.serviceNamespace;

  return {
    apiVersion: DISCOVERY_API_VERSION,
    kind: 'EndpointSlice',
    metadata: {
      name: exportEndpointSliceName(input.clusterId, input.serviceName, input.serviceNamespace),
      namespace: input.brokerNamespace,
      labels,
      annotations: {
        [ANNOTATION_PUBLISH_NOT_READY]: String(input.publishNotReadyAddresses === true),
        // "true" only for headless slices under globalnet; moor does not do globalnet.
        [ANNOTATION_GLOBALNET_ENABLED]: 'false',
      },
    },
    addressType: 'IPv4',
    endpoints,
    ports,
  };
}

function invalid(message: string, hint: string): never {
  throw new MoorError('invalid-argument', message, { hint });
}
