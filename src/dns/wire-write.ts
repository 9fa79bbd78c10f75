// Reply encoder. Answer records are encoded once, when the record index changes, into
// position-independent byte strings: every owner name is the pointer 0xC00C to the question name
// (which always starts at offset 12), and SRV targets are written uncompressed as RFC 2782 asks
// (miekg/dns does the same). A reply is then header + the query's own question bytes + a prefix of
// those records + an optional OPT, so answering needs no name handling at all.
import { isIPv4 } from 'node:net';
import {
  ADVERTISED_UDP_PAYLOAD,
  CLASS_IN,
  FLAG_AA,
  FLAG_QR,
  FLAG_TC,
  FLAGS_COPIED_TO_REPLY,
  HEADER_LENGTH,
  MAX_LABEL_LENGTH,
  MAX_MESSAGE_LENGTH,
  MAX_NAME_WIRE_LENGTH,
  MIN_UDP_PAYLOAD,
  OPT_RECORD_LENGTH,
  QUESTION_NAME_OFFSET,
  RCODE_NOTIMP,
  TYPE_A,
  TYPE_OPT,
  TYPE_PTR,
  TYPE_SRV,
} from './constants.ts';
import type { ParsedQuery, RejectedQuery } from './wire.ts';

/** Answer records ready to be copied after a question; see the file comment. */
export interface EncodedRecords {
  readonly bytes: Buffer;
  /** End offset of each record inside `bytes`; a reply may carry any prefix of the records. */
  readonly recordEnds: readonly number[];
}

export interface SrvRecordData {
  readonly port: number;
  /** Lower-case presentation name without the trailing dot. */
  readonly target: string;
}

export const SRV_PRIORITY = 0;
export const SRV_WEIGHT = 50;
const OWNER_POINTER = 0xc000 | QUESTION_NAME_OFFSET;
const RECORD_FIXED_LENGTH = 12; // owner pointer (2) + type (2) + class (2) + TTL (4) + rdlength (2)

export const NO_RECORDS: EncodedRecords = { bytes: Buffer.alloc(0), recordEnds: [] };

/** A records for dotted-quad IPv4 strings; anything else is skipped (the index validated them). */
export function encodeARecords(ips: readonly string[], ttl: number): EncodedRecords {
  const valid = ips.filter((ip) => isIPv4(ip));
  const bytes = Buffer.alloc(valid.length * (RECORD_FIXED_LENGTH + 4));
  const recordEnds: number[] = [];
  let off = 0;
  for (const ip of valid) {
    off = writeRecordHeader(bytes, off, TYPE_A, ttl, 4);
    for (const octet of ip.split('.')) bytes[off++] = Number(octet);
    recordEnds.push(off);
  }
  return { bytes, recordEnds };
}

export function encodeSrvRecords(records: readonly SrvRecordData[], ttl: number): EncodedRecords {
  const parts: Buffer[] = [];
  const recordEnds: number[] = [];
  let total = 0;
  for (const record of records) {
    const target = encodeName(record.target);
    if (target === null || !Number.isInteger(record.port) || record.port < 0 || record.port > 0xffff)
      continue;
    const rr = Buffer.alloc(RECORD_FIXED_LENGTH + 6 + target.length);
    let off = writeRecordHeader(rr, 0, TYPE_SRV, ttl, 6 + target.length);
    off = rr.writeUInt16BE(SRV_PRIORITY, off);
    off = rr.writeUInt16BE(SRV_WEIGHT, off);
    off = rr.writeUInt16BE(record.port, off);
    target.copy(rr, off);
    parts.push(rr);
    total += rr.length;
    recordEnds.push(total);
  }
  return { bytes: Buffer.concat(parts, total), recordEnds };
}

/** PTR records (reverse DNS of egress IPs); names that cannot be encoded are skipped. */
export function encodePtrRecords(names: readonly string[], ttl: number): EncodedRecords {
  const parts: Buffer[] = [];
  const recordEnds: number[] = [];
  let total = 0;
  for (const name of names) {
    const target = encodeName(name);
    if (target === null) continue;
    const rr = Buffer.alloc(RECORD_FIXED_LENGTH + target.length);
    target.copy(rr, writeRecordHeader(rr, 0, TYPE_PTR, ttl, target.length));
    parts.push(rr);
    total += rr.length;
    recordEnds.push(total);
  }
  return { bytes: Buffer.concat(parts, total), recordEnds };
}

function writeRecordHeader(buf: Buffer, start: number, type: number, ttl: number, rdlength: number): number {
  let off = buf.writeUInt16BE(OWNER_POINTER, start);
  off = buf.writeUInt16BE(type, off);
  off = buf.writeUInt16BE(CLASS_IN, off);
  off = buf.writeUInt32BE(ttl >>> 0, off);
  return buf.writeUInt16BE(rdlength, off);
}

/**
 * Wire form of a plain presentation name (printable ASCII, no escapes, no trailing dot), or null
 * when it cannot be one: empty or over-long labels, other characters, or more than 255 bytes.
 */
export function encodeName(name: string): Buffer | null {
  const labels = name === '' ? [] : name.split('.');
  const length = labels.reduce((sum, label) => sum + 1 + label.length, 1);
  if (length > MAX_NAME_WIRE_LENGTH) return null;
  const out = Buffer.alloc(length);
  let off = 0;
  for (const label of labels) {
    if (label.length === 0 || label.length > MAX_LABEL_LENGTH) return null;
    out[off++] = label.length;
    for (let i = 0; i < label.length; i++) {
      const c = label.charCodeAt(i);
      if (c < 0x21 || c > 0x7e || c === 0x5c) return null;
      out[off++] = c;
    }
  }
  out[off] = 0;
  return out;
}

/** Largest UDP payload IPv4 can carry (65535 - 8 byte UDP header - 20 byte IP header). */
export const MAX_UDP_PAYLOAD = 65507;

/**
 * Largest reply the client can take: 512 without EDNS, else its advertised size (never below 512,
 * never above what one datagram holds); TCP takes any DNS message.
 */
export function replyLimit(query: ParsedQuery, transport: 'udp' | 'tcp'): number {
  if (transport === 'tcp') return MAX_MESSAGE_LENGTH;
  return query.hasEdns
    ? Math.min(MAX_UDP_PAYLOAD, Math.max(MIN_UDP_PAYLOAD, query.ednsUdpSize))
    : MIN_UDP_PAYLOAD;
}

/**
 * Writes a reply that echoes the query's header and question, carries as many whole answer
 * records as fit in `limit` (setting TC when some were left out) and an OPT when the query had one.
 * `rcode` may be an extended rcode (BADVERS); its upper bits go into the OPT.
 */
export function writeReply(
  query: Buffer,
  parsed: ParsedQuery,
  rcode: number,
  authoritative: boolean,
  records: EncodedRecords,
  limit: number,
): Buffer {
  const optLength = parsed.hasEdns ? OPT_RECORD_LENGTH : 0;
  const room = Math.min(limit, MAX_MESSAGE_LENGTH) - parsed.questionEnd - optLength;
  const ends = records.recordEnds;
  let count = ends.length;
  let bodyLength = count === 0 ? 0 : (ends[count - 1] as number);
  const truncated = bodyLength > room;
  if (truncated) {
    while (count > 0 && (ends[count - 1] as number) > room) count--;
    bodyLength = count === 0 ? 0 : (ends[count - 1] as number);
  }

  const out = Buffer.allocUnsafe(parsed.questionEnd + bodyLength + optLength);
  query.copy(out, 0, 0, parsed.questionEnd);
  let flags = FLAG_QR | (parsed.flags & FLAGS_COPIED_TO_REPLY) | (rcode & 0xf);
  if (authoritative) flags |= FLAG_AA;
  if (truncated) flags |= FLAG_TC;
  out.writeUInt16BE(flags, 2);
  out.writeUInt16BE(1, 4);
  out.writeUInt16BE(count, 6);
  out.writeUInt16BE(0, 8);
  out.writeUInt16BE(optLength === 0 ? 0 : 1, 10);
  let off = parsed.questionEnd;
  if (bodyLength > 0) {
    records.bytes.copy(out, off, 0, bodyLength);
    // Lighthouse answers in the query's class; the stored records say IN, so patch the rest.
    if (parsed.qclass !== CLASS_IN) {
      for (let i = 0, start = 0; i < count; start = ends[i] as number, i++) {
        out.writeUInt16BE(parsed.qclass, off + start + 4);
      }
    }
    off += bodyLength;
  }
  if (optLength !== 0) writeOpt(out, off, rcode >> 4, parsed.ednsDo);
  return out;
}

function writeOpt(out: Buffer, start: number, extendedRcode: number, dnssecOk: boolean): void {
  out[start] = 0; // root owner
  out.writeUInt16BE(TYPE_OPT, start + 1);
  out.writeUInt16BE(ADVERTISED_UDP_PAYLOAD, start + 3);
  out[start + 5] = extendedRcode & 0xff;
  out[start + 6] = 0; // EDNS version 0
  out.writeUInt16BE(dnssecOk ? 0x8000 : 0, start + 7);
  out.writeUInt16BE(0, start + 9); // no options
}

/**
 * Header-only reply to a rejected query, as miekg/dns sends one: no question, not authoritative,
 * opcode kept for NOTIMP so the client sees which opcode was refused.
 */
export function writeRejection(rejected: RejectedQuery): Buffer {
  const out = Buffer.alloc(HEADER_LENGTH);
  out.writeUInt16BE(rejected.id, 0);
  const opcode = rejected.rcode === RCODE_NOTIMP ? rejected.flags & 0x7800 : 0;
  out.writeUInt16BE(FLAG_QR | opcode | (rejected.flags & FLAGS_COPIED_TO_REPLY) | rejected.rcode, 2);
  return out;
}

/** Reads the TC bit of a reply we produced (for counters), without parsing it. */
export function isTruncatedReply(message: Buffer): boolean {
  return message.length >= 4 && (message.readUInt16BE(2) & FLAG_TC) !== 0;
}
