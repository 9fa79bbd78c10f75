// Query decoder for the hot path. It reads only what answering needs (header, the one question,
// the OPT record) and never follows compression pointers, so hostile packets cost at most one
// linear pass. Acceptance rules mirror miekg/dns `DefaultMsgAcceptFunc`, which fronts CoreDNS and
// therefore Lighthouse: responses are ignored, opcodes other than QUERY get NOTIMP, and
// qdcount != 1, ancount > 1, nscount > 1 or arcount > 2 get FORMERR.
import {
  FLAG_QR,
  HEADER_LENGTH,
  MAX_LABEL_LENGTH,
  MAX_NAME_WIRE_LENGTH,
  RCODE_FORMERR,
  RCODE_NOTIMP,
  TYPE_OPT,
} from './constants.ts';

export interface ParsedQuery {
  readonly kind: 'query';
  readonly id: number;
  /** The raw 16-bit flags word of the query (RD and CD are copied into replies). */
  readonly flags: number;
  readonly rd: boolean;
  /** Lower-cased presentation form without the trailing dot ('' for the root). See `decodeName`. */
  readonly qname: string;
  readonly qtype: number;
  readonly qclass: number;
  /** Offset just past QTYPE/QCLASS: bytes [0, questionEnd) are the header plus the question. */
  readonly questionEnd: number;
  readonly hasEdns: boolean;
  /** Requested UDP payload size from the OPT record; 0 without EDNS. */
  readonly ednsUdpSize: number;
  readonly ednsVersion: number;
  /** The DNSSEC OK bit, echoed in our OPT as RFC 3225 asks. */
  readonly ednsDo: boolean;
}

/** Header readable but the message is unacceptable: reply with a header-only error. */
export interface RejectedQuery {
  readonly kind: 'reject';
  readonly id: number;
  readonly flags: number;
  readonly rcode: typeof RCODE_FORMERR | typeof RCODE_NOTIMP;
  readonly reason: string;
}

/** Nothing sensible can be sent back: too short for a header, or not a query at all. */
export interface DroppedQuery {
  readonly kind: 'drop';
  readonly reason: 'short' | 'response';
}

export type QueryParseResult = ParsedQuery | RejectedQuery | DroppedQuery;

const DROP_SHORT: DroppedQuery = { kind: 'drop', reason: 'short' };
const DROP_RESPONSE: DroppedQuery = { kind: 'drop', reason: 'response' };

// Presentation output is at most 4 characters per wire byte (\DDD), so 4 * 255 always fits.
const nameScratch = Buffer.allocUnsafe(4 * MAX_NAME_WIRE_LENGTH);
const BACKSLASH = 0x5c;
const DOT = 0x2e;

export function parseQuery(buf: Buffer): QueryParseResult {
  if (buf.length < HEADER_LENGTH) return DROP_SHORT;
  const id = buf.readUInt16BE(0);
  const flags = buf.readUInt16BE(2);
  if ((flags & FLAG_QR) !== 0) return DROP_RESPONSE;
  if (((flags >> 11) & 0xf) !== 0) return reject(id, flags, RCODE_NOTIMP, 'opcode is not QUERY');
  const qdcount = buf.readUInt16BE(4);
  const ancount = buf.readUInt16BE(6);
  const nscount = buf.readUInt16BE(8);
  const arcount = buf.readUInt16BE(10);
  if (qdcount !== 1) return reject(id, flags, RCODE_FORMERR, `qdcount ${qdcount}`);
  if (ancount > 1 || nscount > 1 || arcount > 2) {
    return reject(id, flags, RCODE_FORMERR, `record counts an=${ancount} ns=${nscount} ar=${arcount}`);
  }

  const nameEnd = decodeQuestionName(buf, HEADER_LENGTH);
  if (nameEnd < 0) return reject(id, flags, RCODE_FORMERR, QUESTION_NAME_ERRORS[-nameEnd] ?? 'bad name');
  const qnameLength = nameScratchLength;
  if (nameEnd + 4 > buf.length) return reject(id, flags, RCODE_FORMERR, 'truncated question');
  const qtype = buf.readUInt16BE(nameEnd);
  const qclass = buf.readUInt16BE(nameEnd + 2);
  const questionEnd = nameEnd + 4;

  let off = questionEnd;
  for (let i = 0; i < ancount + nscount; i++) {
    off = skipRecord(buf, off);
    if (off < 0) return reject(id, flags, RCODE_FORMERR, 'truncated record');
  }
  let hasEdns = false;
  let ednsUdpSize = 0;
  let ednsVersion = 0;
  let ednsDo = false;
  for (let i = 0; i < arcount; i++) {
    const start = off;
    off = skipRecord(buf, off);
    if (off < 0) return reject(id, flags, RCODE_FORMERR, 'truncated additional record');
    const fixed = skipName(buf, start);
    if (buf.readUInt16BE(fixed) !== TYPE_OPT) continue;
    // RFC 6891 §6.1.1: exactly one OPT, owned by the root name, with well-formed options.
    if (hasEdns) return reject(id, flags, RCODE_FORMERR, 'more than one OPT record');
    if (fixed !== start + 1 || buf[start] !== 0)
      return reject(id, flags, RCODE_FORMERR, 'OPT owner not root');
    if (!optionsWellFormed(buf, fixed + 10, off)) return reject(id, flags, RCODE_FORMERR, 'bad EDNS option');
    hasEdns = true;
    ednsUdpSize = buf.readUInt16BE(fixed + 2);
    ednsVersion = buf[fixed + 5] ?? 0;
    ednsDo = ((buf[fixed + 6] ?? 0) & 0x80) !== 0;
  }

  return {
    kind: 'query',
    id,
    flags,
    rd: (flags & 0x0100) !== 0,
    qname: nameScratch.toString('latin1', 0, qnameLength),
    qtype,
    qclass,
    questionEnd,
    hasEdns,
    ednsUdpSize,
    ednsVersion,
    ednsDo,
  };
}

function reject(id: number, flags: number, rcode: RejectedQuery['rcode'], reason: string): RejectedQuery {
  return { kind: 'reject', id, flags, rcode, reason };
}

const QUESTION_NAME_ERRORS = [
  '',
  'truncated name',
  'compression pointer in question',
  'bad label type',
  'name too long',
];
let nameScratchLength = 0;

/**
 * Decodes the uncompressed question name at `off` into `nameScratch` as lower-cased presentation
 * text (labels joined by '.', no trailing dot). Bytes that could make two different names print
 * alike are escaped as miekg/dns does: '.' and '\' get a backslash, non-printables become \DDD.
 * Returns the offset after the name, or a negative index into QUESTION_NAME_ERRORS.
 */
function decodeQuestionName(buf: Buffer, start: number): number {
  let off = start;
  let out = 0;
  for (;;) {
    const len = buf[off];
    if (len === undefined) return -1;
    if (len === 0) break;
    if ((len & 0xc0) === 0xc0) return -2;
    if (len > MAX_LABEL_LENGTH) return -3;
    if (off + 1 + len - start + 1 > MAX_NAME_WIRE_LENGTH) return -4;
    if (off + 1 + len > buf.length) return -1;
    if (out > 0) nameScratch[out++] = DOT;
    for (let i = off + 1; i <= off + len; i++) {
      const b = buf[i] as number;
      if (b >= 0x41 && b <= 0x5a) nameScratch[out++] = b | 0x20;
      else if (b === DOT || b === BACKSLASH) {
        nameScratch[out++] = BACKSLASH;
        nameScratch[out++] = b;
      } else if (b < 0x21 || b > 0x7e) {
        nameScratch[out++] = BACKSLASH;
        nameScratch[out++] = 0x30 + Math.floor(b / 100);
        nameScratch[out++] = 0x30 + (Math.floor(b / 10) % 10);
        nameScratch[out++] = 0x30 + (b % 10);
      } else nameScratch[out++] = b;
    }
    off += 1 + len;
  }
  nameScratchLength = out;
  return off + 1;
}

/** Offset after a possibly compressed name, or -1. Pointers end a name and are never followed. */
export function skipName(buf: Buffer, start: number): number {
  let off = start;
  for (;;) {
    const len = buf[off];
    if (len === undefined) return -1;
    if (len === 0) return off + 1;
    if ((len & 0xc0) === 0xc0) return off + 2 <= buf.length ? off + 2 : -1;
    if ((len & 0xc0) !== 0) return -1;
    off += 1 + len;
    if (off - start > MAX_NAME_WIRE_LENGTH) return -1;
  }
}

/** Offset after a whole resource record (name, fixed fields, rdata), or -1 when it does not fit. */
function skipRecord(buf: Buffer, start: number): number {
  const fixed = skipName(buf, start);
  if (fixed < 0 || fixed + 10 > buf.length) return -1;
  const end = fixed + 10 + buf.readUInt16BE(fixed + 8);
  return end <= buf.length ? end : -1;
}

function optionsWellFormed(buf: Buffer, start: number, end: number): boolean {
  let off = start;
  while (off < end) {
    if (off + 4 > end) return false;
    off += 4 + buf.readUInt16BE(off + 2);
  }
  return off === end;
}

/**
 * Splits a presentation name produced by `parseQuery` into labels, honouring backslash escapes so
 * that an escaped dot stays inside its label (as miekg/dns `SplitDomainName` does).
 */
export function splitLabels(name: string): string[] {
  if (name === '') return [];
  if (!name.includes('\\')) return name.split('.');
  const labels: string[] = [];
  let start = 0;
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i);
    if (c === BACKSLASH) i++;
    else if (c === DOT) {
      labels.push(name.slice(start, i));
      start = i + 1;
    }
  }
  labels.push(name.slice(start));
  return labels;
}
