// 5. DNS: dnsperf against moor's DNS server (bench/dns-serve.ts) and dnsmasq serving the same A
// records, side by side: unpaced QPS (3 alternating 5 s runs each, medians) and latency under a
// paced 10k QPS load, with p99 from dnsperf -v's per-query latencies. The servers share CPU 1,
// dnsperf runs on CPU 0. Goals: QPS ≥ 1.0× dnsmasq; p99 ≤ 1 ms at 10k QPS.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { TestRun } from '../../test/harness/run.ts';
import { queryA } from '../lib/dns-client.ts';
import { dnsBenchServices, dnsperfInput, hostsFile, queryMix } from '../lib/dns-data.ts';
import { startDnsmasq, startMoorDns, startUdpReflector } from '../lib/dns-servers.ts';
import { type DnsperfResult, dnsperf } from '../lib/dnsperf.ts';
import { memoryOf } from '../lib/proc-stats.ts';
import type { Section, SectionContext } from '../lib/section.ts';
import { fmt, median } from '../lib/stats.ts';

const SERVICES = 1000;
const QUERIES = 10_000;
const ROUNDS = 3;
const UNPACED_S = 5;
const PACED_QPS = 10_000;
const PACED_S = 10;
const SERVER_CPU = 1;

function describe(r: DnsperfResult): string {
  return `${fmt(r.qps)} q/s, avg ${fmt(r.avgLatencyMs, 3)} ms, max ${fmt(r.maxLatencyMs, 2)} ms, lost ${r.lost}/${r.sent}`;
}

async function compareAnswers(ctx: SectionContext, names: string[], moorPort: number, dnsmasqPort: number) {
  let mismatches = 0;
  for (const name of names) {
    const [a, b] = [await queryA(moorPort, name), await queryA(dnsmasqPort, name)];
    if (a.rcode === b.rcode && a.records.join() === b.records.join()) continue;
    mismatches++;
    if (mismatches <= 3)
      ctx.log(
        `answers differ for ${name}: moor rcode ${a.rcode} [${a.records}], dnsmasq rcode ${b.rcode} [${b.records}]`,
      );
  }
  ctx.log(`answers compared for ${names.length} names (rcode, addresses, TTL): ${mismatches} differ`);
  if (mismatches > 0)
    ctx.note(`${mismatches} of ${names.length} names are answered differently by moor and dnsmasq`);
}

export const dnsSection: Section = {
  name: 'dns',
  title: 'dnsperf: moor DNS server vs dnsmasq with the same records (QPS; p99 at 10k QPS)',
  usesOracle: false,
  timeoutMs: 240_000,
  async run(ctx) {
    const run = TestRun.start();
    try {
      const services = dnsBenchServices(SERVICES);
      const queries = queryMix(services, QUERIES);
      const queryFile = join(run.dir, 'queries.txt');
      writeFileSync(queryFile, dnsperfInput(queries));
      const hosts = join(run.dir, 'clusterset.hosts');
      writeFileSync(hosts, hostsFile(services));

      const moorServer = await startMoorDns(run, SERVER_CPU, SERVICES);
      const moor = moorServer.process;
      const moorPort = moorServer.port;
      const moorIdle = memoryOf(moor.pid);
      const dnsmasqServer = await startDnsmasq(run, SERVER_CPU, hosts, queries[0]?.name ?? '');
      const dnsmasq = dnsmasqServer.process;
      const dnsmasqPort = dnsmasqServer.port;
      const reflectPort = (await startUdpReflector(run, SERVER_CPU)).port;
      ctx.log(
        `${SERVICES} services (${2 * SERVICES} A names); query mix of ${QUERIES}: 70 % service, 15 % cluster-prefixed, 15 % NXDOMAIN`,
      );
      await compareAnswers(
        ctx,
        [...new Set(queries.slice(0, 400).map((q) => q.name))],
        moorPort,
        dnsmasqPort,
      );

      const servers = [
        { name: 'moor', port: moorPort },
        { name: 'dnsmasq', port: dnsmasqPort },
      ];
      // The reflector does no DNS work: the ceiling of node:dgram here, for reading moor's figure.
      const unpacedServers = [...servers, { name: 'node-dgram-ceiling', port: reflectPort }];
      for (const s of unpacedServers) await dnsperf({ port: s.port, queryFile, seconds: 2 }); // warm-up
      const unpaced: Record<string, DnsperfResult[]> = { moor: [], dnsmasq: [], 'node-dgram-ceiling': [] };
      for (let round = 1; round <= ROUNDS; round++) {
        for (const s of unpacedServers) {
          const r = await dnsperf({ port: s.port, queryFile, seconds: UNPACED_S });
          unpaced[s.name]?.push(r);
          ctx.log(`unpaced round ${round}, ${s.name.padEnd(18)}: ${describe(r)}`);
        }
      }
      const paced: Record<string, DnsperfResult> = {};
      for (const s of servers) {
        const r = await dnsperf({
          port: s.port,
          queryFile,
          seconds: PACED_S,
          qps: PACED_QPS,
          perQuery: true,
        });
        paced[s.name] = r;
        ctx.log(
          `paced ${PACED_QPS} q/s, ${s.name.padEnd(7)}: ${describe(r)}; p50 ${fmt(r.p50Ms ?? Number.NaN, 3)} ms, p99 ${fmt(r.p99Ms ?? Number.NaN, 3)} ms, p99.9 ${fmt(r.p999Ms ?? Number.NaN, 3)} ms`,
        );
      }
      const q = (name: string) => median((unpaced[name] ?? []).map((r) => r.qps));
      const lat = (name: string) => median((unpaced[name] ?? []).map((r) => r.avgLatencyMs));
      const ratio = q('moor') / q('dnsmasq');
      ctx.figure({
        name: 'moor DNS QPS (median of 3)',
        value: q('moor'),
        unit: 'q/s',
        samples: (unpaced.moor ?? []).map((r) => r.qps),
      });
      ctx.figure({
        name: 'dnsmasq QPS (median of 3)',
        value: q('dnsmasq'),
        unit: 'q/s',
        samples: (unpaced.dnsmasq ?? []).map((r) => r.qps),
      });
      ctx.figure({
        name: 'QPS ratio moor/dnsmasq',
        value: ratio,
        unit: '×',
        digits: 2,
        target: '≥ 1.0',
        met: ratio >= 1,
      });
      ctx.figure({
        name: 'node:dgram reflector QPS (no DNS work)',
        value: q('node-dgram-ceiling'),
        unit: 'q/s',
        samples: (unpaced['node-dgram-ceiling'] ?? []).map((r) => r.qps),
      });
      ctx.figure({ name: 'moor avg latency, unpaced', value: lat('moor'), unit: 'ms', digits: 3 });
      ctx.figure({ name: 'dnsmasq avg latency, unpaced', value: lat('dnsmasq'), unit: 'ms', digits: 3 });
      for (const s of servers) {
        const r = paced[s.name];
        if (!r) continue;
        ctx.figure({
          name: `${s.name} avg latency @${PACED_QPS / 1000}k q/s`,
          value: r.avgLatencyMs,
          unit: 'ms',
          digits: 3,
        });
        ctx.figure({
          name: `${s.name} p99 latency @${PACED_QPS / 1000}k q/s`,
          value: r.p99Ms ?? Number.NaN,
          unit: 'ms',
          digits: 3,
          ...(s.name === 'moor' ? { target: '≤ 1', met: (r.p99Ms ?? Number.POSITIVE_INFINITY) <= 1 } : {}),
        });
      }
      const pm = paced.moor;
      const pd = paced.dnsmasq;
      if (pm?.p99Ms && pd?.p99Ms)
        ctx.figure({ name: 'p99 ratio moor/dnsmasq @10k', value: pm.p99Ms / pd.p99Ms, unit: '×', digits: 2 });
      ctx.figure({
        name: 'moor DNS server VmRSS before load',
        value: moorIdle.rssMiB,
        unit: 'MiB',
        digits: 1,
      });
      ctx.figure({ name: 'moor DNS server VmHWM', value: memoryOf(moor.pid).hwmMiB, unit: 'MiB', digits: 1 });
      ctx.figure({ name: 'dnsmasq VmHWM', value: memoryOf(dnsmasq.pid).hwmMiB, unit: 'MiB', digits: 1 });
      ctx.note(
        `servers pinned to CPU ${SERVER_CPU}, dnsperf (4 clients, ≤ 200 outstanding) to CPU 0; moor runs from source (type stripping)`,
      );
    } finally {
      await run.cleanup();
    }
  },
};
