// What the DNS service answers before it has seen the broker once.
//
// Choice: SERVFAIL for names in our zones, everything else (REFUSED out of zone, NOTIMP, FORMERR,
// BADVERS) unchanged. The alternative, answering from an empty index, would say NXDOMAIN: "this
// service does not exist". That is a lie while we simply do not know yet, and clients act on it:
// glibc returns EAI_NONAME ("Name or service not known") for NXDOMAIN, which applications and
// retry libraries treat as permanent, but EAI_AGAIN ("Temporary failure in name resolution") for
// SERVFAIL, which they retry. Neither sticks in the host resolver's cache for long (our replies
// carry no SOA to derive a negative TTL from), so what matters is what the client is told.
// It is also what a real cluster does: the Lighthouse CoreDNS
// pod is not ready until its informers have synced, and the cluster DNS forwarding to it fails.
// The window is short with a reachable broker (one list); with a broker that is down at boot it
// lasts until the broker answers, and SERVFAIL is then the honest answer. Once open, the gate
// stays open: a broker outage later serves the last copy (stale, not empty).
import type { AnswerResult, DnsAnswerer, Transport } from './answer.ts';
import { FLAG_AA, RCODE_NOERROR, RCODE_NXDOMAIN, RCODE_SERVFAIL } from './constants.ts';

export class StartupGate {
  private readonly answerer: Pick<DnsAnswerer, 'answer'>;
  private isOpen = false;
  servfails = 0;

  constructor(answerer: Pick<DnsAnswerer, 'answer'>) {
    this.answerer = answerer;
  }

  get ready(): boolean {
    return this.isOpen;
  }

  open(): void {
    this.isOpen = true;
  }

  answer(query: Buffer, transport: Transport): AnswerResult {
    const result = this.answerer.answer(query, transport);
    if (this.isOpen || result.kind !== 'reply' || result.outOfZone) return result;
    if (result.rcode !== RCODE_NXDOMAIN && result.rcode !== RCODE_NOERROR) return result;
    this.servfails += 1;
    return { ...result, message: asServfail(result.message), rcode: RCODE_SERVFAIL };
  }
}

/** Our reply (freshly built per query, no answer records: the index is empty) as a SERVFAIL,
 * which is not authoritative. */
function asServfail(message: Buffer): Buffer {
  const flags = message.readUInt16BE(2);
  message.writeUInt16BE((flags & ~FLAG_AA & ~0xf) | RCODE_SERVFAIL, 2);
  return message;
}
