// iperf3 runs between namespaces: a server that stays up, clients that report Mbit/s.
import type { RunningProcess } from '../../test/harness/process.ts';
import { waitFor } from '../../test/harness/process.ts';
import type { Host } from '../../test/harness/topology.ts';

export async function startIperfServer(host: Host, port: number): Promise<RunningProcess> {
  const proc = host.spawn(`iperf3-${port}`, ['iperf3', '-s', '-p', String(port)]);
  await waitFor(
    'iperf3 server listening',
    async () => ((await host.exec(['ss', '-Htln', `sport = :${port}`])).stdout.trim() ? true : undefined),
    { process: proc, timeoutMs: 10_000 },
  );
  return proc;
}

/** One TCP run; returns what the receiver got, in Mbit/s. */
export async function iperfTcp(
  client: Host,
  options: { server: string; bind: string; port: number; seconds: number },
): Promise<{ mbps: number; retransmits: number }> {
  const r = await client.exec(
    [
      'iperf3',
      '-c',
      options.server,
      '-B',
      options.bind,
      '-p',
      String(options.port),
      '-t',
      String(options.seconds),
      '-J',
    ],
    { timeoutMs: (options.seconds + 20) * 1000, allowFail: true },
  );
  const out = JSON.parse(r.stdout || '{}') as {
    error?: string;
    end?: { sum_received?: { bits_per_second?: number }; sum_sent?: { retransmits?: number } };
  };
  const bps = out.end?.sum_received?.bits_per_second;
  if (r.code !== 0 || !bps)
    throw new Error(`iperf3 to ${options.server} failed: ${out.error ?? r.stderr.trim()}`);
  return { mbps: bps / 1e6, retransmits: out.end?.sum_sent?.retransmits ?? 0 };
}
