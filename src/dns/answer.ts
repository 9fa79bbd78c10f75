// The query → reply function the server calls for every packet. Hot path: parse, one map lookup,
// copy precomputed records behind the query's own header and question. Everything else (unknown
// names, other spellings, other zones and types) goes through classify + resolve, which never
// caches, so hostile name sprays cannot grow memory.
import { MoorError } from '../errors.ts';
import {
  type AnswerStore,
  buildAnswerStore,
  type NameAnswers,
  NODATA_ANSWER,
  NOTIMP_ANSWER,
  NXDOMAIN_ANSWER,
  type PreparedAnswer,
  prepareResolution,
  REFUSED_ANSWER,
} from './answer-store.ts';
import {
  DEFAULT_TTL_SECONDS,
  MAX_TTL_SECONDS,
  RCODE_BADVERS,
  TYPE_A,
  TYPE_AAAA,
  TYPE_SRV,
} from './constants.ts';
import { type EgressRecordIndex, resolveEgressQuery } from './egress-records.ts';
import { canonicalName, classifyName, normalizeZones } from './names.ts';
import { type RecordIndex, serviceKey } from './records.ts';
import { resolveServiceQuery } from './resolve.ts';
import { type ParsedQuery, parseQuery } from './wire.ts';
import {
  encodeARecords,
  encodePtrRecords,
  NO_RECORDS,
  replyLimit,
  writeRejection,
  writeReply,
} from './wire-write.ts';

export type Transport = 'udp' | 'tcp';

export type AnswerResult =
  | {
      readonly kind: 'reply';
      readonly message: Buffer;
      readonly rcode: number;
      /** REFUSED because the name is in none of our zones: a forwarder may answer instead. */
      readonly outOfZone: boolean;
    }
  | { readonly kind: 'drop'; readonly reason: 'short' | 'response' };

export interface AnswererOptions {
  /** Zones served besides `clusterset.local` (the operator's `customDomains`). */
  readonly customDomains?: readonly string[];
  /** Record TTL in seconds, 0..3600 (Lighthouse `ttl` option); default 5. */
  readonly ttl?: number;
  /**
   * false: serve the egress index only (the controller's in-cluster server, which is not
   * Lighthouse): the egress zone is answered even while the index is empty, and every name the
   * index does not claim is REFUSED (out of zone). Default true.
   */
  readonly serviceNames?: boolean;
}

export interface DnsAnswerer {
  answer(query: Buffer, transport: Transport): AnswerResult;
  /** Swaps in answers for a new index; queries keep being served from the old one until done. */
  update(index: RecordIndex): void;
  /**
   * Swaps in the egress names (A for <workload>.<ns>.<cluster>.egress.<zone>, PTR for egress IPs);
   * empty by default, so a server without egress data answers exactly as before.
   */
  updateEgress(index: EgressRecordIndex): void;
  /** How many names have precomputed answers (for status output). */
  readonly precomputedNames: number;
}

const EMPTY_EGRESS: EgressRecordIndex = { forward: new Map(), reverse: new Map() };
const DROP_SHORT: AnswerResult = { kind: 'drop', reason: 'short' };
const DROP_RESPONSE: AnswerResult = { kind: 'drop', reason: 'response' };
const ROTATION_WRAP = 0x40000000;

export function createAnswerer(index: RecordIndex, options: AnswererOptions = {}): DnsAnswerer {
  const ttl = options.ttl ?? DEFAULT_TTL_SECONDS;
  if (!Number.isInteger(ttl) || ttl < 0 || ttl > MAX_TTL_SECONDS) {
    throw new MoorError('invalid-argument', `DNS TTL ${ttl} is out of range`, {
      hint: 'use 0..3600 seconds',
    });
  }
  const zones = normalizeZones(options.customDomains);
  let store = buildAnswerStore(index, zones, ttl);
  const serviceNames = options.serviceNames ?? true;
  let egress: EgressRecordIndex | undefined = serviceNames ? undefined : EMPTY_EGRESS;

  return {
    answer(query, transport) {
      const parsed = parseQuery(query);
      if (parsed.kind === 'drop') return parsed.reason === 'short' ? DROP_SHORT : DROP_RESPONSE;
      if (parsed.kind === 'reject') {
        return { kind: 'reply', message: writeRejection(parsed), rcode: parsed.rcode, outOfZone: false };
      }
      const limit = replyLimit(parsed, transport);
      // CoreDNS checks the EDNS version before any plugin runs (RFC 6891 §6.1.3).
      if (parsed.hasEdns && parsed.ednsVersion !== 0) {
        const message = writeReply(query, parsed, RCODE_BADVERS, false, NO_RECORDS, limit);
        return { kind: 'reply', message, rcode: RCODE_BADVERS, outOfZone: false };
      }
      const prepared =
        (egress && egressAnswer(egress, parsed, ttl)) ??
        (serviceNames ? (lookup(store, parsed) ?? slowPath(store, parsed)) : REFUSED_ANSWER);
      const variants = prepared.variants;
      let records = variants[0] ?? NO_RECORDS;
      const rotation = prepared.rotation;
      if (rotation !== null && variants.length > 1) {
        records = variants[rotation.next % variants.length] ?? records;
        rotation.next = (rotation.next + 1) % ROTATION_WRAP;
      }
      const message = writeReply(query, parsed, prepared.rcode, prepared.authoritative, records, limit);
      return { kind: 'reply', message, rcode: prepared.rcode, outOfZone: prepared === REFUSED_ANSWER };
    },
    update(next) {
      store = buildAnswerStore(next, zones, ttl);
    },
    updateEgress(next) {
      egress = !serviceNames || next.forward.size > 0 || next.reverse.size > 0 ? next : undefined;
    },
    get precomputedNames() {
      return store.names.size;
    },
  };
}

function egressAnswer(
  index: EgressRecordIndex,
  parsed: ParsedQuery,
  ttl: number,
): PreparedAnswer | undefined {
  const r = resolveEgressQuery(index, parsed.qname, parsed.qtype);
  if (r === null) return undefined;
  if (r.rcode === 'NXDOMAIN') return NXDOMAIN_ANSWER;
  if (r.answer === null) return NODATA_ANSWER;
  const records =
    r.answer.kind === 'a' ? encodeARecords(r.answer.ips, ttl) : encodePtrRecords(r.answer.names, ttl);
  return { ...NODATA_ANSWER, variants: [records] };
}

function lookup(store: AnswerStore, parsed: ParsedQuery): PreparedAnswer | undefined {
  return pick(store.names.get(parsed.qname), parsed.qtype);
}

function pick(entry: NameAnswers | undefined, qtype: number): PreparedAnswer | undefined {
  if (entry === undefined) return undefined;
  if (qtype === TYPE_A) return entry.a;
  if (qtype === TYPE_AAAA) return entry.aaaa;
  if (qtype === TYPE_SRV) return entry.srv;
  return undefined;
}

/** Names without a precomputed answer: classify, try the canonical spelling, else resolve now. */
function slowPath(store: AnswerStore, parsed: ParsedQuery): PreparedAnswer {
  const classified = classifyName(parsed.qname, parsed.qtype, store.zones);
  switch (classified.kind) {
    case 'out-of-zone':
      return REFUSED_ANSWER;
    case 'unsupported-type':
      return NOTIMP_ANSWER;
    case 'not-a-service':
      return NXDOMAIN_ANSWER;
    case 'service': {
      const query = classified.query;
      const service = store.index.services.get(serviceKey(query.namespace, query.service));
      if (!service) return NXDOMAIN_ANSWER;
      const canonical = pick(
        store.names.get(canonicalName(query, parsed.qtype, service.headless)),
        parsed.qtype,
      );
      return canonical ?? prepareResolution(resolveServiceQuery(store.index, query, parsed.qtype), store.ttl);
    }
  }
}
