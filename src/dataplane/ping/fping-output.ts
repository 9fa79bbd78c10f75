// Parsing fping's loop-mode output (`fping -l`), one line per probe:
//   "10.10.2.1 : [3], 64 bytes, 0.512 ms (0.498 avg, 0% loss)"
//   "10.10.2.1 : [4], timed out (0.498 avg, 20% loss)"
// Anything else (ICMP errors, summaries) is ignored.

export type ProbeResult =
  | { target: string; seq: number; ok: true; rttMs: number }
  | { target: string; seq: number; ok: false };

const REPLY = /^(\S+)\s+:\s+\[(\d+)\],\s+\d+\s+bytes,\s+([\d.]+)\s+ms\b/;
const TIMEOUT = /^(\S+)\s+:\s+\[(\d+)\],\s+timed out\b/;

export function parseFpingLine(line: string): ProbeResult | undefined {
  const reply = REPLY.exec(line);
  if (reply) return { target: reply[1]!, seq: Number(reply[2]), ok: true, rttMs: Number(reply[3]) };
  const timeout = TIMEOUT.exec(line);
  if (timeout) return { target: timeout[1]!, seq: Number(timeout[2]), ok: false };
  return undefined;
}
