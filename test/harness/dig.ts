// The real `dig` as the DNS client of e2e tests: one query, its status, header flags and answer
// records parsed from `+noall +comments +answer` output.
import type { ExecResult } from './exec.ts';

export interface DigAnswer {
  /** NOERROR, NXDOMAIN, REFUSED, ...; "NO REPLY" when dig got none. */
  status: string;
  flags: string[];
  records: Array<{ name: string; ttl: number; type: string; data: string }>;
}

/**
 * `query` is dig's query part: `[name, type]` or `['-x', ip]`; `extra` adds options (`+tcp`).
 * `run` executes argv (in the right namespace) and must not throw on a non-zero exit.
 */
export async function digQuery(
  run: (argv: string[]) => Promise<ExecResult>,
  server: { address: string; port: number },
  query: string[],
  extra: string[] = [],
): Promise<DigAnswer> {
  const argv = ['dig', `@${server.address}`, '-p', String(server.port), ...query];
  const out = (await run([...argv, '+noall', '+comments', '+answer', '+tries=1', '+time=2', ...extra]))
    .stdout;
  const records = out
    .split('\n')
    .filter((line) => line.trim() !== '' && !line.startsWith(';'))
    .map((line) => {
      const [owner = '', ttl = '', , rtype = '', ...data] = line.trim().split(/\s+/);
      return { name: owner, ttl: Number(ttl), type: rtype, data: data.join(' ') };
    });
  return {
    status: /status: (\w+)/.exec(out)?.[1] ?? 'NO REPLY',
    flags: (/;; flags: ([a-z ]+);/.exec(out)?.[1] ?? '').split(' '),
    records,
  };
}
