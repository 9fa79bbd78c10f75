// DNS wire constants (RFC 1035, 2782, 6891) shared by the codec, the resolver and the server.

export const TYPE_A = 1;
export const TYPE_PTR = 12;
export const TYPE_AAAA = 28;
export const TYPE_SRV = 33;
export const TYPE_OPT = 41;

export const CLASS_IN = 1;

export const RCODE_NOERROR = 0;
export const RCODE_FORMERR = 1;
export const RCODE_SERVFAIL = 2;
export const RCODE_NXDOMAIN = 3;
export const RCODE_NOTIMP = 4;
export const RCODE_REFUSED = 5;
/** Extended rcode (needs an OPT record): the upper 8 bits travel in the OPT TTL field. */
export const RCODE_BADVERS = 16;

export const FLAG_QR = 0x8000;
export const FLAG_AA = 0x0400;
export const FLAG_TC = 0x0200;
export const FLAG_RD = 0x0100;
export const FLAG_CD = 0x0010;
/** Header bits a reply copies from the query, as miekg/dns `SetReply` does (RD and CD). */
export const FLAGS_COPIED_TO_REPLY = FLAG_RD | FLAG_CD;

export const HEADER_LENGTH = 12;
/** Offset of the question name; every owner name we write is a pointer to it (0xC00C). */
export const QUESTION_NAME_OFFSET = 12;
export const MAX_NAME_WIRE_LENGTH = 255;
export const MAX_LABEL_LENGTH = 63;
/** Largest UDP reply without EDNS, and the floor for any EDNS-advertised size (RFC 6891 §6.2.5). */
export const MIN_UDP_PAYLOAD = 512;
export const MAX_MESSAGE_LENGTH = 65535;
/** The UDP payload size we advertise in our own OPT record (DNS flag day 2020 recommendation). */
export const ADVERTISED_UDP_PAYLOAD = 1232;
/** Root name (1) + type (2) + class (2) + TTL (4) + rdlength (2). */
export const OPT_RECORD_LENGTH = 11;

/** Lighthouse `defaultTTL`; the `ttl` option accepts 0..3600. */
export const DEFAULT_TTL_SECONDS = 5;
export const MAX_TTL_SECONDS = 3600;
export const DEFAULT_ZONE = 'clusterset.local';
