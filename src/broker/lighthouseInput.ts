// Validation of what OUR operator asks to export (spec §4.4). These checks throw MoorError
// 'invalid-argument', because a mistake here does not fail loudly anywhere else: the broker
// accepts the objects, and remote clusters just never resolve the name.
import { MoorError } from '../errors.ts';
import { IMPORT_NAMESPACE_DENY_LIST } from './lighthouseKeys.ts';

export type PortProtocol = 'TCP' | 'UDP' | 'SCTP';

/** A service port as the operator gives it; `name` may be "" only for a single-port service. */
export interface ExportPort {
  name: string;
  protocol: PortProtocol;
  port: number;
  appProtocol?: string;
}

export const PORT_PROTOCOLS: readonly PortProtocol[] = ['TCP', 'UDP', 'SCTP'];
/** EndpointSlice validation limit on `ports` (discovery/v1). */
export const MAX_SLICE_PORTS = 100;

const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS1123_LABEL_MAX = 63;
// appProtocol follows label-key syntax: an optional DNS-subdomain prefix, '/', and a name.
const QUALIFIED_NAME = /^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;
const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const PORT_SPEC_HINT =
  'write a port as [name:]port[/protocol], like "5432", "5432/TCP" or "postgres:5432/TCP"';

export function isDns1123Label(text: string): boolean {
  return text.length <= DNS1123_LABEL_MAX && DNS1123_LABEL.test(text);
}

/** Why Lighthouse agents would refuse to import into `namespace`, or undefined. */
export function namespaceDenyReason(namespace: string): string | undefined {
  for (const entry of IMPORT_NAMESPACE_DENY_LIST) {
    if (entry.endsWith('-') ? namespace.startsWith(entry) : namespace === entry) {
      const how = entry.endsWith('-') ? `starts with "${entry}"` : `is "${entry}"`;
      return (
        `namespace "${namespace}" ${how}: Lighthouse agents on remote clusters refuse to import services ` +
        `into namespaces on their import-namespace-deny-list (default "${IMPORT_NAMESPACE_DENY_LIST.join(',')}"), ` +
        'so no other cluster would ever resolve this service'
      );
    }
  }
  return undefined;
}

/** Service name and namespace become DNS labels (`<svc>.<ns>.svc.clusterset.local`). */
export function assertServiceIdentity(serviceName: string, serviceNamespace: string): void {
  if (!isDns1123Label(serviceName)) {
    invalid(
      `service name ${JSON.stringify(serviceName)} is not a DNS-1123 label`,
      'use 1-63 lower-case letters, digits and "-", starting and ending with a letter or digit, like "postgres"',
    );
  }
  if (!isDns1123Label(serviceNamespace)) {
    invalid(
      `service namespace ${JSON.stringify(serviceNamespace)} is not a DNS-1123 label`,
      'use the name of a Kubernetes namespace, like "default" or "databases"',
    );
  }
  const denied = namespaceDenyReason(serviceNamespace);
  if (denied !== undefined) {
    invalid(`cannot export ${serviceName}: ${denied}`, 'export the service in an ordinary namespace instead');
  }
}

export function assertBrokerNamespace(namespace: string): void {
  if (!isDns1123Label(namespace)) {
    invalid(
      `broker namespace ${JSON.stringify(namespace)} is not a DNS-1123 label`,
      'use the namespace from broker-info, usually "submariner-k8s-broker"',
    );
  }
}

/**
 * Checks the ports of one service and returns clean copies (no `appProtocol` key when unset).
 * Names must be unique because Lighthouse merges clusters' ports by name alone; "" is allowed only
 * for a single port, as Kubernetes allows it.
 */
export function validatedPorts(ports: readonly ExportPort[], options: { allowNone: boolean }): ExportPort[] {
  if (ports.length === 0 && !options.allowNone) {
    invalid('the service has no ports', `give at least one port; ${PORT_SPEC_HINT}`);
  }
  if (ports.length > MAX_SLICE_PORTS) {
    invalid(`the service has ${ports.length} ports`, `an EndpointSlice holds at most ${MAX_SLICE_PORTS}`);
  }
  const names = new Set<string>();
  const numbers = new Set<string>();
  return ports.map((p) => {
    const label = `port ${p.name === '' ? p.port : `"${p.name}"`}`;
    if (!Number.isInteger(p.port) || p.port < 1 || p.port > 65535) {
      invalid(`${label}: ${String(p.port)} is not a port number`, 'use a port between 1 and 65535');
    }
    if (!PORT_PROTOCOLS.includes(p.protocol)) {
      invalid(`${label}: protocol ${JSON.stringify(p.protocol)} is not supported`, 'use TCP, UDP or SCTP');
    }
    if (p.name === '' && ports.length > 1) {
      invalid(
        `port ${p.port}/${p.protocol} has no name, but the service has ${ports.length} ports`,
        'name every port of a multi-port service; Lighthouse merges ports across clusters by name',
      );
    }
    if (p.name !== '' && !isDns1123Label(p.name)) {
      invalid(
        `port name ${JSON.stringify(p.name)} is not a DNS-1123 label`,
        'use lower-case letters, digits and "-", like "postgres" or "http-alt"; it appears in SRV names',
      );
    }
    if (names.has(p.name)) {
      invalid(
        `port name ${JSON.stringify(p.name)} is used twice`,
        'give each port its own name; Lighthouse keeps only the first port of each name',
      );
    }
    names.add(p.name);
    const number = `${p.port}/${p.protocol}`;
    if (numbers.has(number)) invalid(`port ${number} is listed twice`, 'list each port and protocol once');
    numbers.add(number);
    const clean: ExportPort = { name: p.name, protocol: p.protocol, port: p.port };
    if (p.appProtocol !== undefined) {
      if (!isAppProtocol(p.appProtocol)) {
        invalid(
          `${label}: appProtocol ${JSON.stringify(p.appProtocol)} is not a qualified name`,
          'use an IANA service name like "http", or a prefixed name like "example.com/proto"',
        );
      }
      clean.appProtocol = p.appProtocol;
    }
    return clean;
  });
}

/** Parses the CLI `--port` value `[name:]port[/protocol]`; the protocol defaults to TCP. */
export function parsePortSpec(text: string): ExportPort {
  const spec = text.trim();
  if (spec === '') invalid('the port is empty', PORT_SPEC_HINT);
  const colon = spec.lastIndexOf(':');
  const name = colon === -1 ? '' : spec.slice(0, colon);
  const rest = colon === -1 ? spec : spec.slice(colon + 1);
  const slash = rest.indexOf('/');
  const numberText = slash === -1 ? rest : rest.slice(0, slash);
  const protocolText = slash === -1 ? 'TCP' : rest.slice(slash + 1).toUpperCase();
  if (colon !== -1 && !isDns1123Label(name)) {
    invalid(
      `port ${JSON.stringify(text)}: name ${JSON.stringify(name)} is not a DNS-1123 label`,
      `${PORT_SPEC_HINT}; names use lower-case letters, digits and "-"`,
    );
  }
  if (!/^[1-9][0-9]{0,4}$/.test(numberText) || Number(numberText) > 65535) {
    invalid(
      `port ${JSON.stringify(text)}: ${JSON.stringify(numberText)} is not a port number 1-65535`,
      PORT_SPEC_HINT,
    );
  }
  const protocol = PORT_PROTOCOLS.find((p) => p === protocolText);
  if (protocol === undefined) {
    invalid(
      `port ${JSON.stringify(text)}: protocol ${JSON.stringify(rest.slice(slash + 1))} is not TCP, UDP or SCTP`,
      PORT_SPEC_HINT,
    );
  }
  return { name, protocol, port: Number(numberText) };
}

/**
 * Checks a ServiceExport timestamp: Unix nanoseconds as a decimal int64 string. Keep it stable
 * across restarts (store it), because the oldest exporter decides session affinity and port order.
 */
export function assertExportTimestamp(text: string): void {
  if (!/^[0-9]{1,19}$/.test(text) || BigInt(text) > 2n ** 63n - 1n) {
    invalid(
      `export timestamp ${JSON.stringify(text)} is not Unix nanoseconds`,
      'use a decimal number of nanoseconds since 1970, like "1767225600000000000"',
    );
  }
}

/** Unix nanoseconds of `date`, as Lighthouse writes `creationTimestamp.UnixNano()`. */
export function unixNanos(date: Date): string {
  const ms = date.getTime();
  if (!Number.isFinite(ms)) invalid('the export time is not a valid date', 'pass a real Date');
  return (BigInt(ms) * 1_000_000n).toString();
}

function isAppProtocol(text: string): boolean {
  const slash = text.indexOf('/');
  const prefix = slash === -1 ? undefined : text.slice(0, slash);
  const name = slash === -1 ? text : text.slice(slash + 1);
  if (prefix !== undefined && (prefix.length > 253 || !DNS1123_SUBDOMAIN.test(prefix))) return false;
  return name.length <= 63 && QUALIFIED_NAME.test(name);
}

function invalid(message: string, hint: string): never {
  throw new MoorError('invalid-argument', message, { hint });
}
