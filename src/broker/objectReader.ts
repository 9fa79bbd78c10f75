// Tolerant readers for the Cluster and Endpoint objects other members publish on the broker
// (spec §2.1, §2.2). They never throw: broker objects come from other members and may be
// malformed or hostile, so every problem becomes `{ok:false, reason}` naming the bad field, and
// what is tolerated (IPv6 entries, host bits, bad optional fields) is listed in `warnings`.
import { formatCidr, looksLikeIpv6, tryParseCidr, tryParseIpv4 } from '../net/ipv4.ts';
import { cableNameProblem } from './names.ts';
import {
  type BrokerObjectMeta,
  type ClusterObject,
  type EndpointObject,
  type ParseResult,
  SUBMARINER_API_VERSION,
} from './types.ts';

export function parseCluster(object: unknown): ParseResult<ClusterObject> {
  return guarded('Cluster', object, (root, warnings) => {
    const metadata = parseMetadata(root, warnings);
    const spec = root.object('spec');
    const value: ClusterObject = {
      apiVersion: SUBMARINER_API_VERSION,
      kind: 'Cluster',
      metadata,
      spec: {
        cluster_id: spec.clusterId('cluster_id'),
        service_cidr: spec.cidrList('service_cidr', warnings),
        cluster_cidr: spec.cidrList('cluster_cidr', warnings),
        global_cidr: spec.cidrList('global_cidr', warnings),
      },
    };
    const colors = spec.optionalStringList('color_codes', warnings);
    if (colors !== undefined) value.spec.color_codes = colors;
    return value;
  });
}

export function parseEndpoint(object: unknown): ParseResult<EndpointObject> {
  return guarded('Endpoint', object, (root, warnings) => {
    const metadata = parseMetadata(root, warnings);
    const spec = root.object('spec');
    const cable = spec.string('cable_name');
    const cableProblem = cableNameProblem(cable);
    if (cableProblem !== undefined) throw new Rejection(`spec.cable_name: ${cableProblem}`);
    const value: EndpointObject = {
      apiVersion: SUBMARINER_API_VERSION,
      kind: 'Endpoint',
      metadata,
      spec: {
        cluster_id: spec.clusterId('cluster_id'),
        cable_name: cable,
        hostname: spec.string('hostname'),
        subnets: spec.cidrList('subnets', warnings, { required: true }),
        private_ip: spec.ipAddress('private_ip'),
        public_ip: spec.ipAddress('public_ip'),
        nat_enabled: spec.boolean('nat_enabled'),
        backend: spec.string('backend'),
      },
    };
    const config = spec.optionalStringMap('backend_config');
    if (config !== undefined) value.spec.backend_config = config;
    const healthCheckIps = spec.optionalHealthCheckIps('healthCheckIPs', warnings);
    if (healthCheckIps !== undefined) value.spec.healthCheckIPs = healthCheckIps;
    const healthCheckIp = spec.optionalIpAddress('healthCheckIP', warnings);
    if (healthCheckIp !== undefined) value.spec.healthCheckIP = healthCheckIp;
    return value;
  });
}

function guarded<T extends { kind: string }>(
  kind: T['kind'],
  object: unknown,
  read: (root: Reader, warnings: string[]) => T,
): ParseResult<T> {
  const warnings: string[] = [];
  try {
    const root = Reader.root(object);
    const apiVersion = root.optionalString('apiVersion');
    if (apiVersion !== undefined && apiVersion !== SUBMARINER_API_VERSION) {
      return {
        ok: false,
        reason: `apiVersion is ${JSON.stringify(apiVersion)}, expected ${SUBMARINER_API_VERSION}`,
      };
    }
    const actualKind = root.optionalString('kind');
    if (actualKind !== undefined && actualKind !== kind) {
      return { ok: false, reason: `kind is ${JSON.stringify(actualKind)}, expected ${kind}` };
    }
    return { ok: true, value: read(root, warnings), warnings };
  } catch (err) {
    if (err instanceof Rejection) return { ok: false, reason: err.message };
    // Getters, proxies or other exotic objects that throw: still a rejection, never a crash.
    return { ok: false, reason: `unreadable ${kind} object` };
  }
}

// ---- Reading untrusted JSON -------------------------------------------------------------------
// A Reader walks one object and throws Rejection with the dotted path of the first bad field;
// `guarded` turns that into `{ok:false}`. Limits keep hostile objects from costing much.

const MAX_STRING = 1024;
const MAX_LIST = 256;
const MAX_MAP = 256;
const MAX_NAME = 253;
const IPV6_LIKE = /^[0-9A-Fa-f:.]{2,45}$/;

class Rejection extends Error {}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function kindOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}

class Reader {
  readonly #value: Record<string, unknown>;
  readonly #path: string;

  private constructor(value: Record<string, unknown>, path: string) {
    this.#value = value;
    this.#path = path;
  }

  static root(value: unknown): Reader {
    if (!isPlainObject(value)) throw new Rejection(`expected an object, got ${kindOf(value)}`);
    return new Reader(value, '');
  }

  at(key: string): string {
    return this.#path === '' ? key : `${this.#path}.${key}`;
  }

  get(key: string): unknown {
    return Object.hasOwn(this.#value, key) ? this.#value[key] : undefined;
  }

  reject(key: string, problem: string): never {
    throw new Rejection(`${this.at(key)} ${problem}`);
  }

  object(key: string): Reader {
    const value = this.get(key);
    if (value === undefined || value === null) this.reject(key, 'is missing');
    if (!isPlainObject(value)) this.reject(key, `must be an object, got ${kindOf(value)}`);
    return new Reader(value, this.at(key));
  }

  optionalString(key: string): string | undefined {
    const value = this.get(key);
    if (value === undefined || value === null) return undefined;
    if (typeof value !== 'string') this.reject(key, `must be a string, got ${kindOf(value)}`);
    if (value.length > MAX_STRING) this.reject(key, `is longer than ${MAX_STRING} characters`);
    return value;
  }

  string(key: string): string {
    return this.optionalString(key) ?? this.reject(key, 'is missing');
  }

  boolean(key: string): boolean {
    const value = this.get(key);
    if (value === undefined || value === null) this.reject(key, 'is missing');
    if (typeof value !== 'boolean') this.reject(key, `must be true or false, got ${kindOf(value)}`);
    return value;
  }

  clusterId(key: string): string {
    const value = this.string(key);
    if (value.length < 1 || value.length > 63) this.reject(key, 'must have 1 to 63 characters');
    return value;
  }

  /** "" or an IPv4 address; IPv6 text is kept as is (the planner only uses IPv4). */
  ipAddress(key: string): string {
    const value = this.string(key);
    if (value === '' || (IPV6_LIKE.test(value) && looksLikeIpv6(value))) return value;
    const parsed = tryParseIpv4(value);
    return parsed.ok ? value : this.reject(key, `is not an IP address: ${parsed.error}`);
  }

  optionalIpAddress(key: string, warnings: string[]): string | undefined {
    try {
      return this.get(key) === undefined || this.get(key) === null ? undefined : this.ipAddress(key);
    } catch (err) {
      if (!(err instanceof Rejection)) throw err;
      warnings.push(`ignored ${err.message}`);
      return undefined;
    }
  }

  #list(key: string): unknown[] | undefined {
    const value = this.get(key);
    if (value === undefined || value === null) return undefined;
    if (!Array.isArray(value)) this.reject(key, `must be a list, got ${kindOf(value)}`);
    if (value.length > MAX_LIST)
      this.reject(key, `has ${value.length} items; at most ${MAX_LIST} are accepted`);
    return value;
  }

  /** IPv4 CIDRs, normalised; IPv6 entries are dropped with a warning (we route IPv4 only). */
  cidrList(key: string, warnings: string[], options: { required?: boolean } = {}): string[] {
    const list = this.#list(key);
    if (list === undefined) {
      if (options.required === true) this.reject(key, 'is missing');
      warnings.push(`${this.at(key)} is missing; read as []`);
      return [];
    }
    return list.flatMap((item, i) => {
      const path = `${key}[${i}]`;
      if (typeof item !== 'string') this.reject(path, `must be a string, got ${kindOf(item)}`);
      if (looksLikeIpv6(item)) {
        warnings.push(`ignored IPv6 ${this.at(path)} ${JSON.stringify(item.slice(0, 64))}`);
        return [];
      }
      const parsed = tryParseCidr(item, { allowHostBits: true });
      if (!parsed.ok) this.reject(path, `is not a CIDR: ${parsed.error}`);
      const text = formatCidr(parsed.value);
      if (text !== item) warnings.push(`${this.at(path)} ${JSON.stringify(item)} read as ${text}`);
      return [text];
    });
  }

  optionalStringList(key: string, warnings: string[]): string[] | undefined {
    try {
      return this.#list(key)?.map((item, i) =>
        typeof item === 'string' ? item : this.reject(`${key}[${i}]`, 'must be a string'),
      );
    } catch (err) {
      if (!(err instanceof Rejection)) throw err;
      warnings.push(`ignored ${err.message}`);
      return undefined;
    }
  }

  /** Plural health-check IPs (CRD MaxItems 2): invalid entries are dropped, never fatal. */
  optionalHealthCheckIps(key: string, warnings: string[]): string[] | undefined {
    const list = this.optionalStringList(key, warnings);
    if (list === undefined) return undefined;
    if (list.length > 2) {
      warnings.push(`ignored ${this.at(key)}: ${list.length} items, at most 2 are allowed`);
      return undefined;
    }
    const valid = list.filter((ip) => tryParseIpv4(ip).ok || (IPV6_LIKE.test(ip) && looksLikeIpv6(ip)));
    if (valid.length !== list.length) warnings.push(`ignored invalid entries of ${this.at(key)}`);
    return valid;
  }

  optionalStringMap(key: string): Record<string, string> | undefined {
    const value = this.get(key);
    if (value === undefined || value === null) return undefined;
    if (!isPlainObject(value)) this.reject(key, `must be an object, got ${kindOf(value)}`);
    const entries = Object.entries(value);
    if (entries.length > MAX_MAP)
      this.reject(key, `has ${entries.length} entries; at most ${MAX_MAP} are accepted`);
    const map: Record<string, string> = {};
    for (const [k, v] of entries) {
      if (typeof v !== 'string') this.reject(`${key}.${k}`, `must be a string, got ${kindOf(v)}`);
      if (v.length > MAX_STRING) this.reject(`${key}.${k}`, `is longer than ${MAX_STRING} characters`);
      // defineProperty, not assignment: a "__proto__" key must stay plain data.
      Object.defineProperty(map, k, { value: v, enumerable: true, writable: true, configurable: true });
    }
    return map;
  }
}

function parseMetadata(root: Reader, warnings: string[]): BrokerObjectMeta {
  const meta = root.object('metadata');
  const name = meta.string('name');
  if (name === '' || name.length > MAX_NAME) meta.reject('name', `must have 1 to ${MAX_NAME} characters`);
  const result: BrokerObjectMeta = { name };
  const namespace = meta.optionalString('namespace');
  if (namespace !== undefined) result.namespace = namespace;
  const labels = meta.optionalStringMap('labels');
  if (labels !== undefined) result.labels = labels;
  const created = meta.optionalString('creationTimestamp');
  if (created !== undefined) {
    if (Number.isFinite(Date.parse(created))) result.creationTimestamp = created;
    else warnings.push(`ignored metadata.creationTimestamp ${JSON.stringify(created)}: not a timestamp`);
  }
  const resourceVersion = meta.optionalString('resourceVersion');
  if (resourceVersion !== undefined) result.resourceVersion = resourceVersion;
  const uid = meta.optionalString('uid');
  if (uid !== undefined) result.uid = uid;
  return result;
}
