// Running dnsperf (pinned to one CPU) and reading its summary, or with -v its per-query latencies.
import { exec } from '../../test/harness/exec.ts';
import { percentile } from './stats.ts';

export interface DnsperfResult {
  qps: number;
  sent: number;
  completed: number;
  lost: number;
  avgLatencyMs: number;
  maxLatencyMs: number;
  rcodes: string;
  /** Only with perQuery: latencies in ms from dnsperf -v. */
  p50Ms?: number;
  p99Ms?: number;
  p999Ms?: number;
}

export interface DnsperfOptions {
  port: number;
  queryFile: string;
  seconds: number;
  /** Pace the load (queries per second); unlimited when absent. */
  qps?: number;
  clients?: number;
  outstanding?: number;
  perQuery?: boolean;
  cpu?: number;
}

function field(text: string, label: string): number {
  const m = new RegExp(`${label}:\\s+([\\d.]+)`).exec(text);
  if (!m) throw new Error(`dnsperf output has no "${label}"`);
  return Number(m[1]);
}

export async function dnsperf(o: DnsperfOptions): Promise<DnsperfResult> {
  const argv = ['taskset', '-c', String(o.cpu ?? 0), 'dnsperf', '-s', '127.0.0.1', '-p', String(o.port)];
  argv.push('-d', o.queryFile, '-l', String(o.seconds), '-c', String(o.clients ?? 4));
  argv.push('-q', String(o.outstanding ?? 200), '-t', '2');
  if (o.qps) argv.push('-Q', String(o.qps));
  if (o.perQuery) argv.push('-v');
  const r = await exec(argv, { timeoutMs: (o.seconds + 30) * 1000 });
  const out = r.stdout;
  const result: DnsperfResult = {
    qps: field(out, 'Queries per second'),
    sent: field(out, 'Queries sent'),
    completed: field(out, 'Queries completed'),
    lost: field(out, 'Queries lost'),
    avgLatencyMs: field(out, 'Average Latency \\(s\\)') * 1000,
    maxLatencyMs: Number(/max ([\d.]+)\)/.exec(out)?.[1] ?? Number.NaN) * 1000,
    rcodes: /Response codes:\s+(.*)/.exec(out)?.[1]?.trim() ?? '',
  };
  if (o.perQuery) {
    const latencies: number[] = [];
    for (const m of out.matchAll(/^> \S+ \S+ \S+ ([\d.]+)$/gm)) latencies.push(Number(m[1]) * 1000);
    if (latencies.length === 0) throw new Error('dnsperf -v printed no per-query latencies');
    result.p50Ms = percentile(latencies, 50);
    result.p99Ms = percentile(latencies, 99);
    result.p999Ms = percentile(latencies, 99.9);
  }
  return result;
}
