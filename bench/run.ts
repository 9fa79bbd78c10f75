// `npm run bench`: end-to-end figures for moor on real parts (namespaces, a real API server,
// wireguard-go, iperf3, dnsperf, dnsmasq). Prints figures and a summary table and writes them as
// JSON; it never asserts times. Needs root. Each section can run alone:
//   node bench/run.ts --only dns          node bench/run.ts --only join,restart
// A failing section prints its error and the run goes on; the exit code is non-zero if any failed.
import { parseArgs } from 'node:util';
import { ensureBundle } from './lib/bundle.ts';
import { buildOracleEnv, type OracleEnv } from './lib/oracle-env.ts';
import { Report } from './lib/report.ts';
import type { Section, SectionContext } from './lib/section.ts';
import { aclSection } from './sections/acl.ts';
import { aclControllerSection } from './sections/acl-controller.ts';
import { dnsSection } from './sections/dns.ts';
import { egressFailoverSection } from './sections/egress-failover.ts';
import { egress1000Section, egressNewPodSection, egressThroughputSection } from './sections/egress-scale.ts';
import { failoverSection } from './sections/failover.ts';
import { joinSection } from './sections/join.ts';
import { restartSection } from './sections/restart.ts';
import { rssSection } from './sections/rss.ts';
import { shipSection } from './sections/ship.ts';
import { throughputSection } from './sections/throughput.ts';

// Order matters: sections sharing the oracle environment run back to back, and rss (which fills
// the broker with 1,000 members) is the last of them.
const SECTIONS: Section[] = [
  joinSection,
  shipSection,
  restartSection,
  throughputSection,
  rssSection,
  failoverSection,
  egressFailoverSection,
  egressNewPodSection,
  egress1000Section,
  egressThroughputSection,
  dnsSection,
  aclSection,
  aclControllerSection,
];
const ALIASES: Record<string, string[]> = {
  restore: ['restart', 'failover'],
  all: SECTIONS.map((s) => s.name),
};
const DEFAULT_JSON = '/tmp/moor-bench/latest.json';

function selectSections(only: string[]): Section[] {
  if (only.length === 0) return SECTIONS;
  const wanted = new Set(only.flatMap((o) => o.split(',')).flatMap((n) => ALIASES[n] ?? [n]));
  const unknown = [...wanted].filter((n) => !SECTIONS.some((s) => s.name === n));
  if (unknown.length > 0) {
    throw new Error(
      `unknown section(s) ${unknown.join(', ')}; sections: ${SECTIONS.map((s) => s.name).join(', ')}, aliases: ${Object.keys(ALIASES).join(', ')}`,
    );
  }
  return SECTIONS.filter((s) => wanted.has(s.name));
}

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not finish within ${ms / 1000} s`)), ms);
  });
  promise.catch(() => undefined); // a section abandoned by the watchdog may still fail later
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      only: { type: 'string', multiple: true, default: [] },
      json: { type: 'string', default: DEFAULT_JSON },
      list: { type: 'boolean', default: false },
    },
  });
  if (values.list) {
    for (const s of SECTIONS) console.log(`${s.name.padEnd(11)} ${s.title}`);
    return 0;
  }
  const selected = selectSections(values.only);
  if (process.getuid?.() !== 0) throw new Error('the benchmark needs root (network namespaces)');
  const report = new Report();
  const bundle = ensureBundle((line) => console.log(line));
  if (bundle.stale) report.note('build', `measured a stale dist/moor.mjs: ${bundle.error ?? ''}`);

  let oracle: Promise<OracleEnv> | undefined;
  const releaseOracle = async () => {
    const pending = oracle;
    oracle = undefined;
    const env = await pending?.catch(() => undefined);
    await env?.run.cleanup().catch((err: unknown) => console.log(`cleanup: ${String(err)}`));
  };

  try {
    for (const [i, section] of selected.entries()) {
      console.log(`\n### ${section.name}: ${section.title}`);
      const started = performance.now();
      const ctx: SectionContext = {
        name: section.name,
        report,
        log: (line) => console.log(`  ${line}`),
        figure: (f) => report.figure({ ...f, section: section.name }),
        note: (text) => report.note(section.name, text),
        oracle: () => {
          if (!oracle) {
            console.log('  building the oracle environment (broker API server, east gateway, host vm1)…');
            oracle = buildOracleEnv();
            void oracle.then(
              (env) => console.log(`  oracle environment ready in ${(env.setupMs / 1000).toFixed(1)} s`),
              () => undefined,
            );
          }
          return oracle;
        },
      };
      try {
        await withTimeout(section.run(ctx), section.timeoutMs, `section ${section.name}`);
        report.sections.push({ name: section.name, ok: true, seconds: (performance.now() - started) / 1000 });
      } catch (err) {
        const message = err instanceof Error ? (err.stack ?? err.message) : String(err);
        console.log(`  ERROR in section ${section.name}: ${message}`);
        report.sections.push({
          name: section.name,
          ok: false,
          seconds: (performance.now() - started) / 1000,
          error: err instanceof Error ? err.message : String(err),
        });
      }
      if (!selected.slice(i + 1).some((s) => s.usesOracle)) await releaseOracle();
    }
  } finally {
    await releaseOracle();
  }
  report.printSummary();
  report.writeJson(values.json);
  console.log(`results written to ${values.json}`);
  return report.sections.every((s) => s.ok) ? 0 : 1;
}

// A stray rejection (e.g. from a section the watchdog gave up on) must not end the run early.
process.on('unhandledRejection', (err) => {
  console.log(`  (ignored late error: ${err instanceof Error ? err.message : String(err)})`);
});

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err instanceof Error ? err.message : String(err));
    process.exit(2);
  },
);
