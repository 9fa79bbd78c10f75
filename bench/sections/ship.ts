// 7. Shipping: the size of the single executable, the .deb and the .rpm; `moor --version` wall
// time (single executable vs the bundle on node); agent start → READY=1 on $NOTIFY_SOCKET (a
// listener in the run directory standing in for systemd), three fresh joins. The figure from
// real systemd (start → active, under systemd-nspawn) comes from `npm run test:install`.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { NotifyListener } from '../../src/observability/notify-listener.ts';
import type { RunningProcess } from '../../test/harness/process.ts';
import { joinHost, leaveHost, newHostSpec, startAgent } from '../lib/host-agent.ts';
import { NAT_PUBLIC_IP } from '../lib/oracle-env.ts';
import type { Section } from '../lib/section.ts';
import { minMaxMedian } from '../lib/stats.ts';

const REPO = join(import.meta.dirname, '..', '..');
const RUNS = 3;
const VERSION_RUNS = 10;

function wallMs(argv: string[]): number[] {
  const samples: number[] = [];
  for (let i = 0; i < VERSION_RUNS; i++) {
    const t0 = process.hrtime.bigint();
    execFileSync(argv[0] as string, argv.slice(1), { stdio: 'ignore' });
    samples.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  return samples;
}

export const shipSection: Section = {
  name: 'ship',
  title: 'binary, .deb and .rpm sizes; moor --version wall time; agent start → READY=1',
  usesOracle: true,
  timeoutMs: 240_000,
  async run(ctx) {
    const version = (JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as { version: string })
      .version;
    const sea = join(REPO, 'dist', 'moor');
    if (!existsSync(sea))
      execFileSync(process.execPath, [join(REPO, 'scripts', 'build-sea.ts')], { cwd: REPO });
    const files = [
      ['single executable dist/moor', sea],
      ['  beside it: koffi.node', join(REPO, 'dist', 'koffi.node')],
      ['.deb', join(REPO, 'dist', `moor_${version}_amd64.deb`)],
      ['.rpm', join(REPO, 'dist', `moor-${version}-1.x86_64.rpm`)],
    ] as const;
    for (const [name, path] of files) {
      if (existsSync(path))
        ctx.figure({ name: `size: ${name}`, value: statSync(path).size / 1e6, unit: 'MB', digits: 1 });
      else ctx.note(`${path} not built (npm run package)`);
    }
    const seaMs = minMaxMedian(wallMs([sea, '--version']));
    const mjsMs = minMaxMedian(wallMs([process.execPath, join(REPO, 'dist', 'moor.mjs'), '--version']));
    ctx.figure({
      name: 'moor --version wall time (single executable), median',
      value: seaMs.median,
      unit: 'ms',
    });
    ctx.figure({ name: 'node dist/moor.mjs --version, median', value: mjsMs.median, unit: 'ms' });

    const env = await ctx.oracle();
    const vm1 = env.topo.host('vm1');
    const ready: number[] = [];
    for (let i = 1; i <= RUNS; i++) {
      const spec = newHostSpec(env.run, `ship${i}`, { address: '100.70.0.14', publicIp: NAT_PUBLIC_IP });
      const listener = new NotifyListener(join(env.run.dir, `notify-${i}`));
      let agent: RunningProcess | undefined;
      try {
        await joinHost(vm1, env.brokerInfo, spec);
        // startMoor passes the environment on; this agent believes systemd listens there.
        process.env.NOTIFY_SOCKET = listener.path;
        const t0 = Date.now();
        agent = startAgent(vm1, spec, `agent-ship${i}`);
        delete process.env.NOTIFY_SOCKET;
        await listener.waitFor('READY=1', 60_000);
        ready.push(Date.now() - t0);
        ctx.log(`run ${i}: agent start → READY=1 ${Date.now() - t0} ms`);
      } finally {
        delete process.env.NOTIFY_SOCKET;
        listener.close();
        await leaveHost(vm1, env.brokerInfo, spec, agent);
      }
    }
    const r = minMaxMedian(ready);
    ctx.figure({ name: 'agent start → READY=1, median', value: r.median, unit: 'ms', samples: ready });
    const nspawn = join(REPO, 'dist', 'systemd-ready.json');
    if (existsSync(nspawn)) {
      const f = JSON.parse(readFileSync(nspawn, 'utf8')) as { startToReadyMs: number };
      ctx.figure({ name: 'under systemd (nspawn): ExecStart → active', value: f.startToReadyMs, unit: 'ms' });
    }
    ctx.note('READY=1 waits for the broker sync, the tunnel interface, its routes and the DNS listener');
  },
};
