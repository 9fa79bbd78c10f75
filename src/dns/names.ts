// Query-name grammar of the Lighthouse plugin (LH coredns/plugin/handler.go and parse.go):
// zone match first (else the server refuses), then the qtype check (NOTIMP), then
//   <svc>.<ns>.svc.<zone>
//   <cluster>.<svc>.<ns>.svc.<zone>               A, SRV
//   <host>.<cluster>.<svc>.<ns>.svc.<zone>        A
//   _<port>._<proto>[.<cluster>].<svc>.<ns>.svc.<zone>   SRV (leading '_' optional)
// AAAA parses no prefix labels at all, so any prefix of an existing service is NODATA there.
import { MoorError } from '../errors.ts';
import { DEFAULT_ZONE, TYPE_A, TYPE_AAAA, TYPE_SRV } from './constants.ts';
import { splitLabels } from './wire.ts';
import { encodeName } from './wire-write.ts';

/** Fields Lighthouse resolves from; '' means "not given". */
export interface ServiceQuery {
  readonly zone: string;
  readonly service: string;
  readonly namespace: string;
  readonly cluster: string;
  readonly hostname: string;
  readonly port: string;
  readonly protocol: string;
}

export type NameClass =
  | { readonly kind: 'out-of-zone' }
  | { readonly kind: 'unsupported-type' }
  /** In a zone but not a service name (apex, pod queries, too many labels): NXDOMAIN. */
  | { readonly kind: 'not-a-service' }
  | { readonly kind: 'service'; readonly query: ServiceQuery };

const OUT_OF_ZONE: NameClass = { kind: 'out-of-zone' };
const UNSUPPORTED_TYPE: NameClass = { kind: 'unsupported-type' };
const NOT_A_SERVICE: NameClass = { kind: 'not-a-service' };

export interface Zone {
  readonly name: string;
  readonly labels: readonly string[];
}

/**
 * `clusterset.local` plus custom domains, lower-cased, without trailing dot, longest first so that
 * the most specific zone matches (CoreDNS `plugin.Zones.Matches`). Throws on invalid names: this is
 * configuration, checked once at start-up.
 */
export function normalizeZones(customDomains: readonly string[] = []): Zone[] {
  const names = new Set<string>([DEFAULT_ZONE]);
  for (const raw of customDomains) {
    const name = raw.trim().toLowerCase().replace(/\.$/, '');
    if (name === '' || encodeName(name) === null || !/^[a-z0-9_.-]+$/.test(name)) {
      throw new MoorError('invalid-argument', `invalid DNS zone ${JSON.stringify(raw)}`, {
        hint: 'use a domain name such as "example.org" (letters, digits, "-" and dots)',
      });
    }
    names.add(name);
  }
  return [...names]
    .map((name) => ({ name, labels: name.split('.') }))
    .sort((a, b) => b.labels.length - a.labels.length || (a.name < b.name ? -1 : 1));
}

/** Classifies a lower-cased presentation name (as `parseQuery` produces it) for a query type. */
export function classifyName(qname: string, qtype: number, zones: readonly Zone[]): NameClass {
  const labels = splitLabels(qname);
  const zone = zones.find((z) => endsWithLabels(labels, z.labels));
  if (!zone) return OUT_OF_ZONE;
  if (qtype !== TYPE_A && qtype !== TYPE_AAAA && qtype !== TYPE_SRV) return UNSUPPORTED_TYPE;

  const base = labels.slice(0, labels.length - zone.labels.length);
  const n = base.length;
  // "<service>.<namespace>.svc" at least; apex, "svc", "pod" and "<ns>.svc" name no service.
  if (n < 3 || base[n - 1] !== 'svc') return NOT_A_SERVICE;
  const prefix = base.slice(0, n - 3);
  let cluster = '';
  let hostname = '';
  let port = '';
  let protocol = '';
  if (qtype === TYPE_A) {
    if (prefix.length > 2) return NOT_A_SERVICE;
    cluster = prefix[prefix.length - 1] ?? '';
    hostname = prefix.length === 2 ? (prefix[0] as string) : '';
  } else if (qtype === TYPE_SRV) {
    if (prefix.length > 3) return NOT_A_SERVICE;
    if (prefix.length !== 2) cluster = prefix[prefix.length - 1] ?? '';
    if (prefix.length >= 2) {
      port = stripUnderscore(prefix[0] as string);
      protocol = stripUnderscore(prefix[1] as string);
    }
  }
  const query = { zone: zone.name, service: base[n - 3] as string, namespace: base[n - 2] as string };
  return { kind: 'service', query: { ...query, cluster, hostname, port, protocol } };
}

function endsWithLabels(labels: readonly string[], suffix: readonly string[]): boolean {
  if (labels.length < suffix.length) return false;
  const offset = labels.length - suffix.length;
  for (let i = 0; i < suffix.length; i++) if (labels[offset + i] !== suffix[i]) return false;
  return true;
}

function stripUnderscore(label: string): string {
  return label.startsWith('_') ? label.slice(1) : label;
}

/**
 * The one spelling under which the answer store keeps the answer for `query`: every field that
 * cannot change the answer is dropped (AAAA prefixes, the host label of a ClusterSetIP service,
 * a port filter's missing underscores). Classifying the result gives back an equivalent query.
 */
export function canonicalName(query: ServiceQuery, qtype: number, headless: boolean): string {
  const base = `${query.service}.${query.namespace}.svc.${query.zone}`;
  if (qtype === TYPE_AAAA) return base;
  const cluster = query.cluster === '' ? '' : `${query.cluster}.`;
  if (qtype === TYPE_A)
    return headless && query.hostname !== '' ? `${query.hostname}.${cluster}${base}` : cluster + base;
  const portFilter = query.port === '' && query.protocol === '' ? '' : `_${query.port}._${query.protocol}.`;
  return portFilter + cluster + base;
}
