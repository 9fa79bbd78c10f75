// Egress figures beyond failover, on the e2e harness's simulated cluster (routed CNI):
// - egress-newpod: a new selected pod pings fw at 100/s from before its Pod status is written;
//   measured: status write (as a kubelet) → first echo answered (it left from the egress IP;
//   before that the node's guard drops it), ×PODS.
// - egress-1000: 1,000 selected Pod objects (API only) over both workers; measured: last Pod
//   write → policy status shows 1,000 selected pods, → each node agent's nft set holds its pods,
//   and the node agents' RSS and CPU seconds while they program them.
// - egress-throughput: iperf3 from a selected pod to fw through the egress gateway, against an
//   unselected pod on the same node taking the plain routed path.
import { CoreV1Api } from '@kubernetes/client-node';
import { setPodIp } from '../../test/harness/egress-cluster.ts';
import { FW } from '../../test/harness/egress-topology.ts';
import { PingWatch } from '../../test/harness/ping-watch.ts';
import { waitFor } from '../../test/harness/process.ts';
import { TestRun } from '../../test/harness/run.ts';
import { buildEgressBenchEnv, nodeSetSize, type Worker } from '../lib/egress-env.ts';
import { iperfTcp, startIperfServer } from '../lib/iperf.ts';
import { cpuSecondsOf, memoryOf } from '../lib/proc-stats.ts';
import type { Section } from '../lib/section.ts';
import { fmt, inParallel, median, percentile, sleep } from '../lib/stats.ts';

const PODS = 10;
const BULK = 1000;
const WRITERS = 16;
const IPERF_RUNS = 3;
const IPERF_SECONDS = 5;

export const egressNewPodSection: Section = {
  name: 'egress-newpod',
  title: `egress: new selected pod's status written → first echo from fw via the egress IP (×${PODS})`,
  usesOracle: false,
  timeoutMs: 600_000,
  async run(ctx) {
    const run = TestRun.start();
    try {
      const env = await buildEgressBenchEnv(run);
      const times: number[] = [];
      for (let i = 0; i < PODS; i++) {
        const node: Worker = i % 2 === 0 ? 'w1' : 'w2';
        const ip = `10.1.${node === 'w1' ? 3 : 4}.${20 + i}`;
        const name = `new-${i}`;
        const pod = await env.c.addPod(name, node, ip, { app: 'pay' }, 'shop', { status: false });
        const before = await env.c.fwSources();
        // The pod sends from the start, as an app would; its echoes are dropped until steered.
        const ping = PingWatch.start(run, pod, FW, { intervalS: 0.01 });
        try {
          await sleep(300);
          const written = Date.now();
          await setPodIp(env.c.kc, 'shop', name, ip);
          const first = await ping.firstReplyAfter(written, 30_000);
          times.push(first - written);
          await sleep(200);
        } finally {
          ping.stop();
        }
        const after = await env.c.fwSources();
        const sources = [...after].filter(([k, v]) => v > (before.get(k) ?? 0)).map(([k]) => k);
        const leaked = sources.filter((s) => s !== env.payIp);
        if (leaked.length > 0) throw new Error(`${name}: fw saw sources other than ${env.payIp}: ${leaked}`);
        ctx.log(`${name} on ${node}: steered ${times.at(-1)} ms after its status write; fw saw ${sources}`);
      }
      ctx.figure({
        name: 'egress: new pod → steered, median',
        value: median(times),
        unit: 'ms',
        samples: times,
      });
      ctx.figure({ name: 'egress: new pod → steered, p95', value: percentile(times, 95), unit: 'ms' });
      ctx.note(
        'steered = first echo answered by fw (10 ms ping interval); fw saw no source but the egress IP',
      );
    } finally {
      await run.cleanup();
    }
  },
};

export const egress1000Section: Section = {
  name: 'egress-1000',
  title: `egress: ${BULK} selected pods: controller reconcile, node-agent programming, RSS and CPU`,
  usesOracle: false,
  timeoutMs: 600_000,
  async run(ctx) {
    const run = TestRun.start();
    try {
      // Pod objects only; their IPs lie in per-node pod CIDRs the agents are told about.
      const cidrs = { w1: ['10.1.16.0/22'], w2: ['10.1.20.0/22'] };
      const env = await buildEgressBenchEnv(run, { podCidrs: cidrs });
      const agents = (['w1', 'w2'] as const).map((w) => ({ w, pid: env.procs.get(w)?.pid ?? -1 }));
      await sleep(3000);
      const idle = agents.map((a) => ({ ...a, mem: memoryOf(a.pid), cpu: cpuSecondsOf(a.pid) }));
      for (const a of idle)
        ctx.log(`${a.w} node agent (pid ${a.pid}) idle: VmRSS ${fmt(a.mem.rssMiB, 1)} MiB`);
      const core = env.c.kc.makeApiClient(CoreV1Api);
      const pods = Array.from({ length: BULK }, (_, i) => {
        const node: Worker = i % 2 === 0 ? 'w1' : 'w2';
        const k = Math.floor(i / 2);
        const ip = `10.1.${(node === 'w1' ? 16 : 20) + Math.floor(k / 250)}.${(k % 250) + 1}`;
        return { name: `bulk-${i}`, node, ip };
      });
      const started = Date.now();
      await inParallel(pods, WRITERS, async (p) => {
        const created = await core.createNamespacedPod({
          namespace: 'shop',
          body: {
            metadata: { name: p.name, labels: { app: 'pay' } },
            spec: {
              nodeName: p.node,
              automountServiceAccountToken: false,
              containers: [{ name: 'app', image: 'app:1' }],
            },
          },
        });
        created.status = { phase: 'Running', podIP: p.ip, podIPs: [{ ip: p.ip }], startTime: new Date() };
        await core.replaceNamespacedPodStatus({ namespace: 'shop', name: p.name, body: created });
      });
      const lastWrite = Date.now();
      ctx.log(
        `${BULK} Pods created and their status written in ${lastWrite - started} ms (${WRITERS} writers); controller restarts so far: ${env.controllerRestarts()}`,
      );
      const programmed = new Map<Worker, number>();
      const peak = new Map<Worker, number>();
      const selected = await waitFor(
        'the policy status and both agents showing every pod',
        async () => {
          for (const a of agents) {
            peak.set(a.w, Math.max(peak.get(a.w) ?? 0, memoryOf(a.pid).rssMiB));
            if (!programmed.has(a.w) && (await nodeSetSize(env, a.w, 'steered_pods')) >= BULK / 2)
              programmed.set(a.w, Date.now());
          }
          const p = await env.eg.policy('pay');
          if (p.status?.selectedPods === BULK && programmed.size === 2) return Date.now();
          return undefined;
        },
        { timeoutMs: 300_000, intervalMs: 100 },
      );
      ctx.figure({
        name: `egress ${BULK} pods: last Pod write → policy status shows ${BULK} selected (upper bound)`,
        value: selected - lastWrite,
        unit: 'ms',
      });
      for (const a of idle) {
        const t = (programmed.get(a.w) ?? Number.NaN) - lastWrite;
        ctx.figure({
          name: `egress ${BULK} pods: last Pod write → ${a.w} agent's set holds its ${BULK / 2}`,
          value: t,
          unit: 'ms',
        });
      }
      await sleep(2000);
      for (const a of idle) {
        const mem = memoryOf(a.pid);
        const cpu = cpuSecondsOf(a.pid) - a.cpu;
        ctx.log(
          `${a.w} agent: VmRSS ${fmt(a.mem.rssMiB, 1)} → ${fmt(mem.rssMiB, 1)} MiB (peak sampled ${fmt(peak.get(a.w) ?? 0, 1)}, HWM ${fmt(mem.hwmMiB, 1)}), CPU ${fmt(cpu, 2)} s`,
        );
        ctx.figure({
          name: `egress ${BULK} pods: ${a.w} node-agent VmRSS programmed`,
          value: mem.rssMiB,
          unit: 'MiB',
          digits: 1,
        });
        ctx.figure({
          name: `egress ${BULK} pods: ${a.w} node-agent CPU from first write to programmed + 2 s`,
          value: cpu,
          unit: 's',
          digits: 2,
        });
      }
      ctx.note(
        `Pod objects only (${BULK / 2} per worker, no namespaces or veths); ${WRITERS} parallel writers; controller restarted ${env.controllerRestarts()} time(s) after losing its Lease`,
      );
    } finally {
      await run.cleanup();
    }
  },
};

export const egressThroughputSection: Section = {
  name: 'egress-throughput',
  title: `egress: iperf3 selected pod → fw through the egress gateway vs an unselected pod (routed path), ×${IPERF_RUNS}`,
  usesOracle: false,
  timeoutMs: 600_000,
  async run(ctx) {
    const run = TestRun.start();
    try {
      const env = await buildEgressBenchEnv(run);
      const pay = await env.c.addPod('pay-1', 'w1', '10.1.3.5', { app: 'pay' });
      const web = await env.c.addPod('web-1', 'w1', '10.1.3.6', { app: 'web' });
      await waitFor('pay steered', async () =>
        (await nodeSetSize(env, 'w1', 'steered_pods')) >= 1 ? true : undefined,
      );
      const server = await startIperfServer(env.c.topo.host('fw'), 5201);
      const before = await env.c.fwSources();
      const ratios: number[] = [];
      const viaGw: number[] = [];
      const plain: number[] = [];
      try {
        for (let i = 1; i <= IPERF_RUNS; i++) {
          const g = await iperfTcp(pay, { server: FW, bind: '10.1.3.5', port: 5201, seconds: IPERF_SECONDS });
          const p = await iperfTcp(web, { server: FW, bind: '10.1.3.6', port: 5201, seconds: IPERF_SECONDS });
          viaGw.push(g.mbps);
          plain.push(p.mbps);
          ratios.push(g.mbps / p.mbps);
          ctx.log(
            `run ${i}: via the egress gateway ${fmt(g.mbps)} Mbit/s (${g.retransmits} retr), plain routed ${fmt(p.mbps)} Mbit/s (${p.retransmits} retr): ratio ${fmt(g.mbps / p.mbps, 2)}`,
          );
        }
      } finally {
        await server.stop();
      }
      const after = await env.c.fwSources();
      const sources = [...after]
        .filter(([k, v]) => v > (before.get(k) ?? 0))
        .map(([k]) => k)
        .sort();
      const expected = [env.payIp, '10.1.3.6'].sort();
      if (sources.join() !== expected.join())
        throw new Error(
          `fw saw ${sources}, expected exactly ${expected} (the gateway path was not measured)`,
        );
      ctx.figure({
        name: 'egress throughput via the gateway, median',
        value: median(viaGw),
        unit: 'Mbit/s',
        samples: viaGw,
      });
      ctx.figure({
        name: 'egress throughput plain routed path, median',
        value: median(plain),
        unit: 'Mbit/s',
        samples: plain,
      });
      ctx.figure({
        name: 'egress throughput ratio gateway / plain, median',
        value: median(ratios),
        unit: '×',
        samples: ratios,
        digits: 2,
      });
      ctx.note('same worker, same fw; the gateway path adds VXLAN to the floating address and the SNAT hop');
    } finally {
      await run.cleanup();
    }
  },
};
