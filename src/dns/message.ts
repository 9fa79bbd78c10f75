// A complete, strict DNS message decoder and a query encoder. Not on the hot path: they check our
// replies in tests, the fuzzer and the benchmark, and give end-to-end tests a client codec without
// extra dependencies. The decoder follows compression pointers, but only strictly backwards and at
// most MAX_POINTER_HOPS times per name, so no packet can make it loop.
import {
  HEADER_LENGTH,
  MAX_LABEL_LENGTH,
  MAX_NAME_WIRE_LENGTH,
  TYPE_A,
  TYPE_OPT,
  TYPE_SRV,
} from './constants.ts';
import { encodeName } from './wire-write.ts';

export type DecodedRdata =
  | { readonly kind: 'A'; readonly address: string }
  | {
      readonly kind: 'SRV';
      readonly priority: number;
      readonly weight: number;
      readonly port: number;
      readonly target: string;
    }
  | { readonly kind: 'raw'; readonly bytes: Buffer };

export interface DecodedRecord {
  readonly name: string;
  readonly type: number;
  readonly class: number;
  readonly ttl: number;
  readonly rdata: DecodedRdata;
}

export interface DecodedQuestion {
  readonly name: string;
  readonly type: number;
  readonly class: number;
}

export interface DecodedMessage {
  readonly id: number;
  readonly flags: number;
  readonly qr: boolean;
  readonly opcode: number;
  readonly aa: boolean;
  readonly tc: boolean;
  readonly rd: boolean;
  /** Header rcode combined with the OPT extended rcode, when there is an OPT. */
  readonly rcode: number;
  readonly questions: readonly DecodedQuestion[];
  readonly answers: readonly DecodedRecord[];
  readonly authority: readonly DecodedRecord[];
  /** Additional records other than the OPT. */
  readonly additional: readonly DecodedRecord[];
  readonly edns: { readonly udpSize: number; readonly version: number; readonly dnssecOk: boolean } | null;
}

export type DecodeResult =
  | { readonly ok: true; readonly message: DecodedMessage }
  | { readonly ok: false; readonly reason: string };

const MAX_POINTER_HOPS = 64;

class DecodeFailure {
  readonly reason: string;
  constructor(reason: string) {
    this.reason = reason;
  }
}

/** Decodes a whole message; rejects truncation, trailing bytes, bad pointers and duplicate OPTs. */
export function decodeMessage(buf: Buffer): DecodeResult {
  try {
    return { ok: true, message: decodeOrThrow(buf) };
  } catch (err) {
    if (err instanceof DecodeFailure) return { ok: false, reason: err.reason };
    return { ok: false, reason: err instanceof Error ? err.message : String(err) };
  }
}

function decodeOrThrow(buf: Buffer): DecodedMessage {
  need(buf, 0, HEADER_LENGTH);
  const flags = buf.readUInt16BE(2);
  const counts = [4, 6, 8, 10].map((at) => buf.readUInt16BE(at));
  let off = HEADER_LENGTH;
  const questions: DecodedQuestion[] = [];
  for (let i = 0; i < (counts[0] as number); i++) {
    const [name, next] = readName(buf, off);
    need(buf, next, 4);
    questions.push({ name, type: buf.readUInt16BE(next), class: buf.readUInt16BE(next + 2) });
    off = next + 4;
  }
  const sections: DecodedRecord[][] = [[], [], []];
  let edns: DecodedMessage['edns'] = null;
  let extendedRcode = 0;
  for (let s = 0; s < 3; s++) {
    for (let i = 0; i < (counts[s + 1] as number); i++) {
      const [record, next] = readRecord(buf, off);
      off = next;
      if (record.type !== TYPE_OPT) {
        sections[s]?.push(record);
        continue;
      }
      if (s !== 2 || edns !== null || record.name !== '')
        throw new DecodeFailure('misplaced or duplicate OPT');
      extendedRcode = record.ttl >>> 24;
      edns = {
        udpSize: record.class,
        version: (record.ttl >>> 16) & 0xff,
        dnssecOk: (record.ttl & 0x8000) !== 0,
      };
    }
  }
  if (off !== buf.length) throw new DecodeFailure(`${buf.length - off} trailing bytes`);
  return {
    id: buf.readUInt16BE(0),
    flags,
    qr: (flags & 0x8000) !== 0,
    opcode: (flags >> 11) & 0xf,
    aa: (flags & 0x0400) !== 0,
    tc: (flags & 0x0200) !== 0,
    rd: (flags & 0x0100) !== 0,
    rcode: (extendedRcode << 4) | (flags & 0xf),
    questions,
    answers: sections[0] ?? [],
    authority: sections[1] ?? [],
    additional: sections[2] ?? [],
    edns,
  };
}

function need(buf: Buffer, off: number, length: number): void {
  if (off + length > buf.length) throw new DecodeFailure(`truncated at ${off}`);
}

function readRecord(buf: Buffer, start: number): [DecodedRecord, number] {
  const [name, fixed] = readName(buf, start);
  need(buf, fixed, 10);
  const type = buf.readUInt16BE(fixed);
  const rdlength = buf.readUInt16BE(fixed + 8);
  const rdStart = fixed + 10;
  need(buf, rdStart, rdlength);
  let rdata: DecodedRdata;
  if (type === TYPE_A) {
    if (rdlength !== 4) throw new DecodeFailure(`A rdlength ${rdlength}`);
    rdata = { kind: 'A', address: [...buf.subarray(rdStart, rdStart + 4)].join('.') };
  } else if (type === TYPE_SRV) {
    if (rdlength < 7) throw new DecodeFailure(`SRV rdlength ${rdlength}`);
    const [target, end] = readName(buf, rdStart + 6);
    if (end !== rdStart + rdlength) throw new DecodeFailure('SRV rdlength mismatch');
    rdata = {
      kind: 'SRV',
      priority: buf.readUInt16BE(rdStart),
      weight: buf.readUInt16BE(rdStart + 2),
      port: buf.readUInt16BE(rdStart + 4),
      target,
    };
  } else {
    rdata = { kind: 'raw', bytes: Buffer.from(buf.subarray(rdStart, rdStart + rdlength)) };
  }
  const record = { name, type, class: buf.readUInt16BE(fixed + 2), ttl: buf.readUInt32BE(fixed + 4), rdata };
  return [record, rdStart + rdlength];
}

/** Reads a possibly compressed name; returns it (case kept, no trailing dot) and the offset after it. */
function readName(buf: Buffer, start: number): [string, number] {
  const labels: string[] = [];
  let off = start;
  let end = -1;
  let hops = 0;
  let wireLength = 1;
  for (;;) {
    need(buf, off, 1);
    const len = buf[off] as number;
    if (len === 0) break;
    if ((len & 0xc0) === 0xc0) {
      need(buf, off, 2);
      const target = buf.readUInt16BE(off) & 0x3fff;
      if (end < 0) end = off + 2;
      if (target >= off || ++hops > MAX_POINTER_HOPS) throw new DecodeFailure('bad compression pointer');
      off = target;
      continue;
    }
    if (len > MAX_LABEL_LENGTH) throw new DecodeFailure('bad label type');
    need(buf, off + 1, len);
    wireLength += 1 + len;
    if (wireLength > MAX_NAME_WIRE_LENGTH) throw new DecodeFailure('name too long');
    labels.push(escapeLabel(buf.subarray(off + 1, off + 1 + len)));
    off += 1 + len;
  }
  return [labels.join('.'), end < 0 ? off + 1 : end];
}

function escapeLabel(bytes: Buffer): string {
  let out = '';
  for (const b of bytes) {
    if (b === 0x2e || b === 0x5c) out += `\\${String.fromCharCode(b)}`;
    else if (b < 0x21 || b > 0x7e) out += `\\${String(b).padStart(3, '0')}`;
    else out += String.fromCharCode(b);
  }
  return out;
}

export interface QuerySpec {
  readonly id: number;
  /** Plain presentation name without trailing dot; case is kept. */
  readonly name: string;
  readonly type: number;
  readonly class?: number;
  readonly rd?: boolean;
  readonly edns?: { readonly udpSize: number; readonly version?: number; readonly dnssecOk?: boolean };
}

/** Encodes a standard query. Throws on names that cannot be encoded (it is a test/tool helper). */
export function encodeQuery(spec: QuerySpec): Buffer {
  const name = encodeName(spec.name);
  if (name === null) throw new RangeError(`cannot encode name ${JSON.stringify(spec.name)}`);
  const optLength = spec.edns ? 11 : 0;
  const out = Buffer.alloc(HEADER_LENGTH + name.length + 4 + optLength);
  out.writeUInt16BE(spec.id & 0xffff, 0);
  out.writeUInt16BE(spec.rd === false ? 0 : 0x0100, 2);
  out.writeUInt16BE(1, 4);
  out.writeUInt16BE(spec.edns ? 1 : 0, 10);
  name.copy(out, HEADER_LENGTH);
  let off = HEADER_LENGTH + name.length;
  off = out.writeUInt16BE(spec.type, off);
  off = out.writeUInt16BE(spec.class ?? 1, off);
  if (spec.edns) {
    out[off] = 0;
    out.writeUInt16BE(TYPE_OPT, off + 1);
    out.writeUInt16BE(spec.edns.udpSize, off + 3);
    out[off + 6] = spec.edns.version ?? 0;
    out.writeUInt16BE(spec.edns.dnssecOk ? 0x8000 : 0, off + 7);
  }
  return out;
}
