import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildClusterset, type Clusterset, joinVm1, startAllGateways } from '../harness/clusterset.ts';
import { lighthouseExport } from '../harness/lighthouse.ts';
import { moor, startMoor } from '../harness/moor.ts';
import { type RunningProcess, waitFor } from '../harness/process.ts';
import { TestRun } from '../harness/run.ts';

let run: TestRun;
let cs: Clusterset;
let agent: RunningProcess;
let stateDir: string;
let vmAddress = '';

const dig = async (name: string, type = 'A', extra: string[] = []) => {
  const r = await cs.topo
    .host('vm1')
    .exec(['dig', `@${vmAddress}`, name, type, '+tries=1', '+time=2', ...extra], { allowFail: true });
  return r.stdout;
};
const digShort = async (name: string, type = 'A') =>
  (await dig(name, type, ['+short'])).trim().split('\n').filter(Boolean).sort();

beforeAll(async () => {
  run = TestRun.start();
  cs = await buildClusterset(run);
  startAllGateways(run, cs);
  const host = await joinVm1(run, cs);
  stateDir = host.stateDir;
  vmAddress = host.address;
  agent = host.agent;
  const kc = cs.api.kubeConfig();
  const ns = cs.broker.namespace;
  await lighthouseExport(kc, ns, 'east', { name: 'nginx', namespace: 'web' }, { address: '10.110.0.10' });
  await lighthouseExport(kc, ns, 'west', { name: 'nginx', namespace: 'web' }, { address: '10.120.0.10' });
  await lighthouseExport(
    kc,
    ns,
    'east',
    { name: 'db', namespace: 'data' },
    {
      headless: [
        { address: '10.10.5.1', hostname: 'db-0' },
        { address: '10.10.5.2', hostname: 'db-1' },
      ],
    },
  );
  // Both cables up, so both clusters count.
  await waitFor(
    'both connections connected',
    async () => {
      const s = await moor(cs.topo.host('vm1'), [
        'show',
        'connections',
        '-o',
        'json',
        '--state-dir',
        stateDir,
      ]);
      const c = JSON.parse(s.stdout || '[]') as Array<{ status: string }>;
      return c.length === 2 && c.every((x) => x.status === 'connected') ? true : undefined;
    },
    { timeoutMs: 60_000 },
  );
});

afterAll(async () => {
  await run?.cleanup();
});

describe('clusterset DNS on the host', () => {
  it('round-robins a ClusterSetIP service across both connected clusters', async () => {
    const seen = new Set<string>();
    await waitFor(
      'answers from both clusters',
      async () => {
        for (const a of await digShort('nginx.web.svc.clusterset.local')) seen.add(a);
        return seen.size === 2 ? true : undefined;
      },
      { timeoutMs: 20_000, intervalMs: 50 },
    );
    expect([...seen].sort()).toEqual(['10.110.0.10', '10.120.0.10']);
    const full = await dig('nginx.web.svc.clusterset.local');
    expect(full).toMatch(/flags: qr aa rd/);
    expect(full).toMatch(/nginx\.web\.svc\.clusterset\.local\.\s+5\s+IN\s+A\s+10\.1[12]0\.0\.10/);
  });

  it('answers cluster-prefixed, per-host, SRV, AAAA and unknown names as Lighthouse does', async () => {
    expect(await digShort('west.nginx.web.svc.clusterset.local')).toEqual(['10.120.0.10']);
    expect(await digShort('db.data.svc.clusterset.local')).toEqual(['10.10.5.1', '10.10.5.2']);
    expect(await digShort('db-1.east.db.data.svc.clusterset.local')).toEqual(['10.10.5.2']);
    expect(await digShort('_http._tcp.nginx.web.svc.clusterset.local', 'SRV')).toEqual([
      '0 50 80 nginx.web.svc.clusterset.local.',
    ]);
    const aaaa = await dig('nginx.web.svc.clusterset.local', 'AAAA');
    expect(aaaa).toContain('status: NOERROR');
    expect(aaaa).toContain('ANSWER: 0');
    expect(await dig('nope.web.svc.clusterset.local')).toContain('status: NXDOMAIN');
    expect(await dig('example.com')).toContain('status: REFUSED');
  });

  it('reports the DNS server and the resolver integration in moor status', async () => {
    // The agent writes its status file asynchronously (on a change and on a ticker): poll it.
    const serving = new RegExp(`dns:\\s+${vmAddress.replaceAll('.', '\\.')}:53 serving, 2 services`);
    const out = await waitFor(
      'moor status shows the DNS server serving',
      async () => {
        const r = await moor(cs.topo.host('vm1'), ['status', '--state-dir', stateDir]);
        return serving.test(r.stdout) ? r.stdout : undefined;
      },
      { timeoutMs: 10_000, intervalMs: 200 },
    );
    expect(out).toMatch(/resolver:/);
  });

  it('stops handing out a cluster whose cable fails, and takes it back when it heals', async () => {
    const vm1 = cs.topo.host('vm1');
    const cut =
      'table inet moorcut {\n  chain out {\n    type filter hook output priority 0;\n    ip daddr 10.99.10.0/24 udp dport 4500 drop\n  }\n}\n';
    await vm1.exec(['nft', '-f', '-'], { input: cut });
    const t0 = Date.now();
    await waitFor(
      'east excluded',
      async () => {
        for (let i = 0; i < 4; i += 1)
          if ((await digShort('nginx.web.svc.clusterset.local')).includes('10.110.0.10')) return undefined;
        return true;
      },
      { timeoutMs: 30_000, intervalMs: 100 },
    );
    console.log(`east dropped out of DNS answers ${Date.now() - t0} ms after its cable was cut`);
    // The cluster prefix still answers, even for a disconnected cluster (Lighthouse rule 1).
    expect(await digShort('east.nginx.web.svc.clusterset.local')).toEqual(['10.110.0.10']);
    await vm1.exec(['nft', 'delete', 'table', 'inet', 'moorcut']);
    await waitFor(
      'east back',
      async () => {
        for (let i = 0; i < 6; i += 1)
          if ((await digShort('nginx.web.svc.clusterset.local')).includes('10.110.0.10')) return true;
        return undefined;
      },
      { timeoutMs: 30_000 },
    );
  });

  it('forwards other names when --dns-forward is set, and restarts without losing answers', async () => {
    const vm1 = cs.topo.host('vm1');
    const upstream = vm1.spawn('upstream-dns', [
      'dnsmasq',
      '--no-daemon',
      '--no-resolv',
      '--no-hosts',
      '--port=5300',
      '--listen-address=127.0.0.1',
      '--bind-interfaces',
      '--address=/example.internal/10.1.2.3',
    ]);
    await agent.stop();
    agent = startMoor(vm1, 'agent-forwarding', [
      'agent',
      '--state-dir',
      stateDir,
      '--resync',
      '5',
      '--dns-forward',
      '127.0.0.1:5300',
    ]);
    await waitFor(
      'forwarded answer',
      async () => ((await digShort('example.internal')).includes('10.1.2.3') ? true : undefined),
      {
        timeoutMs: 20_000,
        process: upstream,
      },
    );
    expect(await digShort('west.nginx.web.svc.clusterset.local')).toEqual(['10.120.0.10']);
    await upstream.stop();
    // Upstream gone: SERVFAIL after the forwarder's 2 s timeout, not silence.
    expect(await dig('example.internal', 'A', ['+time=6'])).toContain('status: SERVFAIL');
  });

  it("resolves the host's own export by its clusterset name", async () => {
    const r = await moor(cs.topo.host('vm1'), [
      'export',
      'service',
      'pg',
      '--namespace',
      'vms',
      '--port',
      '5432/TCP',
      '--health',
      'none',
      '--state-dir',
      stateDir,
    ]);
    expect(r.code).toBe(0);
    await waitFor('own export answered', async () =>
      (await digShort('pg.vms.svc.clusterset.local')).includes(vmAddress) ? true : undefined,
    );
    expect(agent.running).toBe(true);
  });
});
