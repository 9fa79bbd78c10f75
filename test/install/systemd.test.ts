// The shipped package under real systemd: a Debian 12 root (debootstrap) with the .deb
// installed by apt, booted with systemd-nspawn inside a network namespace that reaches the
// harness's broker. Proves: the agent does not start before `moor join`; `moor join` enables it
// and the unit turns active only after READY=1 (tunnel interface and DNS listener up);
// `systemctl status` shows the STATUS line; the dnsmasq drop-in is written and used under the
// unit's hardening; a SIGSTOPped agent is killed by the watchdog and restarted while the tunnel
// interface stays (same ifindex, wireguard-go outlives the agent).
import { copyFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApiServer, startEtcd } from '../harness/apiserver.ts';
import { deployBroker, writeBrokerInfo } from '../harness/broker.ts';
import { BootedRoot, freshRoot, inRoot } from '../harness/nspawn.ts';
import { waitFor } from '../harness/process.ts';
import { TestRun } from '../harness/run.ts';
import { buildTopology } from '../harness/topology.ts';

const REPO = join(import.meta.dirname, '..', '..');
const VERSION = (JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as { version: string }).version;
const DEB = join(REPO, 'dist', `moor_${VERSION}_amd64.deb`);

let run: TestRun;
let box: BootedRoot;
let joinMs = 0;

beforeAll(async () => {
  if (!existsSync(DEB))
    throw new Error(`${DEB} is missing: run npm run package first (npm run test:install does)`);
  run = TestRun.start();
  const topo = await buildTopology(run, {
    hosts: { broker: {}, vm1: {} },
    links: [{ a: { host: 'broker', address: '10.99.0.2/24' }, b: { host: 'vm1', address: '10.99.0.3/24' } }],
    routes: [{ host: 'vm1', to: 'default', via: '10.99.0.2' }],
  });
  const etcd = await startEtcd(run, topo.host('broker'));
  const api = await startApiServer(run, {
    name: 'broker',
    host: topo.host('broker'),
    etcd,
    address: '10.99.0.2',
  });
  const broker = await deployBroker(api.kubeConfig());
  const info = writeBrokerInfo(run.dir, api.url, broker);

  const root = freshRoot(run);
  // /root, not /tmp: nspawn mounts a fresh tmpfs on the container's /tmp.
  copyFileSync(DEB, join(root, 'root', 'moor.deb'));
  copyFileSync('/etc/resolv.conf', join(root, 'etc', 'resolv.conf'));
  // wireguard-go: the container has no kernel WireGuard (it is the package's Recommends).
  const apt = await inRoot(root, 'apt-get update -qq && apt-get install -y -qq /root/moor.deb wireguard-go');
  if (apt.code !== 0) throw new Error(`apt install in the root failed:\n${apt.stdout}\n${apt.stderr}`);
  // The host asks its local dnsmasq, which is what makes moor integrate with it. That dnsmasq
  // serves this host only: Debian's default (--local-service) binds every new address as it
  // appears, including moor's clusterset address, and then moor cannot listen on port 53 there.
  writeFileSync(join(root, 'etc', 'resolv.conf'), 'nameserver 127.0.0.1\n');
  writeFileSync(
    join(root, 'etc', 'dnsmasq.d', 'localhost-only.conf'),
    'listen-address=127.0.0.1\nbind-interfaces\n',
  );
  copyFileSync(info, join(root, 'root', 'broker-info.subm'));
  box = await BootedRoot.boot(run, root, topo.host('vm1').ns);
}, 900_000);

afterAll(async () => {
  await run?.cleanup();
}, 120_000);

describe('moor-agent.service under systemd', () => {
  it('does not start before moor join', async () => {
    await box.sh('systemctl start moor-agent.service');
    const p = await box.show('moor-agent.service', ['ActiveState', 'ConditionResult', 'UnitFileState']);
    expect(p).toEqual({ ActiveState: 'inactive', ConditionResult: 'no', UnitFileState: 'disabled' });
  });

  it('turns active only after READY=1, with the connection count in STATUS', async () => {
    const started = Date.now();
    const joined = await box.sh(
      'moor join /root/broker-info.subm --clusterid vm1 --public-ip 10.99.0.3 --interface moor0',
      300_000,
    );
    joinMs = Date.now() - started;
    const log = async () =>
      (
        await box.sh(
          'journalctl -u moor-agent.service -o cat --no-pager | tail -40; echo "--- wireguard-go.log ---"; tail -20 /var/lib/moor/wireguard-go.log',
        )
      ).stdout;
    expect(joined.code, `${joined.stderr}\n--- journal ---\n${joined.code === 0 ? '' : await log()}`).toBe(0);
    const p = await box.show('moor-agent.service', [
      'ActiveState',
      'SubState',
      'Type',
      'StatusText',
      'ExecMainStartTimestampMonotonic',
      'ActiveEnterTimestampMonotonic',
      'WatchdogUSec',
    ]);
    expect(p.ActiveState).toBe('active');
    expect(p.SubState).toBe('running');
    expect(p.Type).toBe('notify');
    expect(p.WatchdogUSec).toBe('30s');
    // STATUS follows the status document once a second: the DNS part appears once it is bound.
    const statusText = await waitFor(
      'STATUS= with the DNS listener',
      async () => {
        const s = (await box.show('moor-agent.service', ['StatusText'])).StatusText ?? '';
        return /^0\/0 connections up on moor0; DNS on \d+\.\d+\.\d+\.\d+:53/.test(s) ? s : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 500 },
    ).catch(async (err: unknown) => {
      throw new Error(`${err instanceof Error ? err.message : String(err)}\n--- journal ---\n${await log()}`);
    });
    expect(statusText).toMatch(/^0\/0 connections up on moor0/);
    // Active came after the DNS listener was up: the agent stamps its own log lines, systemd
    // stamps when it processed READY=1 (the journal's order of the two sources can race).
    const journal = await box.sh('journalctl -u moor-agent.service -o cat --no-pager');
    const stamp = (pattern: RegExp) => {
      const line = journal.stdout.split('\n').find((l) => pattern.test(l));
      return line ? Date.parse(line.split(' ')[0] ?? '') : Number.NaN;
    };
    const dnsUpAt = stamp(/clusterset DNS listening on \d/);
    const readySentAt = stamp(/systemd: ready \(/);
    const activeRaw = (
      await box.sh('systemctl show moor-agent.service -p ActiveEnterTimestamp --timestamp=us+utc')
    ).stdout
      .trim()
      .replace(/^ActiveEnterTimestamp=\w+ /, '')
      .replace(' UTC', 'Z')
      .replace(' ', 'T');
    const activeAt = Date.parse(activeRaw);
    expect(
      Number.isFinite(dnsUpAt) && Number.isFinite(readySentAt) && Number.isFinite(activeAt),
      activeRaw,
    ).toBe(true);
    expect(readySentAt).toBeGreaterThanOrEqual(dnsUpAt);
    expect(activeAt).toBeGreaterThanOrEqual(dnsUpAt);
    const startToActiveMs =
      (Number(p.ActiveEnterTimestampMonotonic) - Number(p.ExecMainStartTimestampMonotonic)) / 1000;
    expect(startToActiveMs).toBeGreaterThan(0);
    writeFileSync(
      join(REPO, 'dist', 'systemd-ready.json'),
      JSON.stringify({ startToReadyMs: Math.round(startToActiveMs), joinMs }),
    );
    const status = await box.sh('systemctl status moor-agent.service --no-pager');
    expect(status.stdout).toMatch(/Status: "0\/0 connections up on moor0/);
  });

  it('writes the dnsmasq drop-in under the hardening, and dnsmasq routes clusterset names to moor', async () => {
    const dropin = await waitFor(
      'the dnsmasq drop-in',
      async () => {
        const r = await box.sh('cat /etc/dnsmasq.d/moor-clusterset.conf');
        return r.code === 0 && r.stdout.includes('clusterset.local') ? r.stdout : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 500 },
    );
    expect(dropin).toMatch(/server=\/clusterset\.local\/\d+\.\d+\.\d+\.\d+/);
    // Through dnsmasq on 127.0.0.1: moor answers for the zone (authoritative NXDOMAIN), where
    // dnsmasq alone (no upstream in this network) would refuse the query.
    let last = '';
    const dig = await waitFor(
      "moor's answer through dnsmasq",
      async () => {
        last = (await box.sh('dig +time=2 +tries=1 @127.0.0.1 nothing.ns.svc.clusterset.local')).stdout;
        return /status: NXDOMAIN/.test(last) ? last : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 1000 },
    ).catch(async (err: unknown) => {
      const journal = (await box.sh('journalctl -u moor-agent.service -o cat --no-pager | tail -30')).stdout;
      throw new Error(
        `${err instanceof Error ? err.message : String(err)}\n${last}\n--- journal ---\n${journal}`,
      );
    });
    // Authoritative (aa): moor's answer, passed on by dnsmasq; moor asked directly agrees.
    expect(dig).toMatch(/flags: qr aa/);
    const address = /server=\/clusterset\.local\/([\d.]+)/.exec(dropin)?.[1];
    const direct = (await box.sh(`dig +time=2 +tries=1 @${address} nothing.ns.svc.clusterset.local`)).stdout;
    expect(direct).toMatch(/status: NXDOMAIN/);
    expect(direct).toMatch(/flags: qr aa/);
  });

  it('restarts a SIGSTOPped agent by the watchdog and leaves the tunnel alone', async () => {
    const before = await box.show('moor-agent.service', ['MainPID', 'NRestarts']);
    const ifindex = async () => (await box.sh('ip -o link show moor0')).stdout.split(':')[0]?.trim() ?? '';
    const index = await ifindex();
    expect(index).toMatch(/^\d+$/);
    await box.sh(`kill -STOP ${before.MainPID}`);
    const after = await waitFor(
      'the watchdog to restart the agent',
      async () => {
        const p = await box.show('moor-agent.service', ['MainPID', 'NRestarts', 'ActiveState']);
        return p.MainPID !== before.MainPID && p.ActiveState === 'active' ? p : undefined;
      },
      { timeoutMs: 150_000, intervalMs: 1000 },
    );
    expect(Number(after.NRestarts)).toBe(Number(before.NRestarts) + 1);
    const journal = await box.sh('journalctl -u moor-agent.service -o cat --no-pager');
    expect(journal.stdout).toMatch(/Watchdog timeout/);
    expect(await ifindex()).toBe(index);
  });
});
