import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ScriptedRunner } from '../dataplane/fake-runner.ts';
import { detectResolver } from '../dataplane/resolver/detect.ts';
import { DROPIN_NAME, type HostResolverPort, type ResolverDetection } from '../dataplane/resolver/index.ts';
import { MoorError } from '../errors.ts';
import { HostResolverIntegration, type HostResolverOptions, RECORD_FILE } from './resolver.ts';
import { MARKER } from './resolver-dropins.ts';

const roots: string[] = [];
afterEach(() => {
  for (const root of roots.splice(0)) rmSync(root, { recursive: true, force: true });
});

/** A fake host: files (path → content) and directories under a temp root, plus a state dir. */
function fakeHost(files: Record<string, string>, dirs: string[] = []): { root: string; stateDir: string } {
  const root = mkdtempSync(join(tmpdir(), 'moor-resolver-'));
  roots.push(root);
  for (const dir of dirs) mkdirSync(join(root, dir), { recursive: true });
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), content);
  }
  const stateDir = join(root, 'var/lib/moor');
  mkdirSync(stateDir, { recursive: true });
  return { root, stateDir };
}

const SYSTEMD = '/run/systemd/system';
const RESOLVED = '/run/systemd/resolve';
const LOOPBACK_RESOLV = { '/etc/resolv.conf': 'nameserver 127.0.0.1\n' };
const DNSMASQ_CONF = { '/etc/dnsmasq.conf': '# defaults\n#conf-dir=/etc/dnsmasq.d/,*.conf\n' };
const UNBOUND_CONF = {
  '/etc/unbound/unbound.conf': 'include-toplevel: "/etc/unbound/unbound.conf.d/*.conf"\n',
};

function integration(
  host: { root: string; stateDir: string },
  runner: ScriptedRunner,
  overrides: Partial<HostResolverOptions> = {},
): HostResolverIntegration {
  return new HostResolverIntegration({
    runner,
    root: host.root,
    stateDir: host.stateDir,
    interfaceName: 'moor0',
    server: { address: '100.70.0.10', port: 53 },
    customDomains: ['Example.org.'],
    log: () => {},
    ...overrides,
  });
}

const inactive = { code: 3, stdout: 'inactive\n' };
const active = { stdout: 'active\n' };

describe('detectResolver', () => {
  it('prefers systemd-resolved when it runs', async () => {
    const host = fakeHost({ '/etc/resolv.conf': 'nameserver 127.0.0.53\n' }, [SYSTEMD, RESOLVED]);
    const runner = new ScriptedRunner().expect(['resolvectl', 'status'], { stdout: 'Global\n' });
    expect(await detectResolver({ root: host.root, runner })).toEqual({
      kind: 'systemd-resolved',
      reason: 'systemd-resolved is running',
      warnings: [],
    });
    runner.assertDone();
  });

  it('falls through when resolvectl fails, and finds dnsmasq with its default conf-dir', async () => {
    const host = fakeHost({ ...LOOPBACK_RESOLV, ...DNSMASQ_CONF }, [SYSTEMD, RESOLVED, '/etc/dnsmasq.d']);
    const runner = new ScriptedRunner()
      .expect(['resolvectl', 'status'], { code: 1, stderr: 'Failed to get global data' })
      .expect(['systemctl', 'is-active', 'dnsmasq'], active);
    const detected = await detectResolver({ root: host.root, runner });
    expect(detected).toMatchObject({ kind: 'dnsmasq', confDir: '/etc/dnsmasq.d' });
    runner.assertDone();
  });

  it('honours conf-dir lines and their suffix filters', async () => {
    const conf = 'conf-dir=/etc/dm-a,*.cfg\nconf-dir=/etc/dm-b/,*.conf\n';
    const host = fakeHost({ ...LOOPBACK_RESOLV, '/etc/dnsmasq.conf': conf }, [
      SYSTEMD,
      '/etc/dm-a',
      '/etc/dm-b',
    ]);
    const runner = new ScriptedRunner().expect(['systemctl', 'is-active', 'dnsmasq'], active);
    expect(await detectResolver({ root: host.root, runner })).toMatchObject({ confDir: '/etc/dm-b' });
  });

  it('warns when dnsmasq validates DNSSEC', async () => {
    const host = fakeHost({ ...LOOPBACK_RESOLV, '/etc/dnsmasq.conf': 'dnssec\n' }, [
      SYSTEMD,
      '/etc/dnsmasq.d',
    ]);
    const runner = new ScriptedRunner().expect(['systemctl', 'is-active', 'dnsmasq'], active);
    const detected = await detectResolver({ root: host.root, runner });
    expect(detected.warnings[0]).toMatch(/DNSSEC/);
  });

  it('uses pidof without systemd and finds unbound with an included conf.d', async () => {
    const host = fakeHost({ ...LOOPBACK_RESOLV, ...UNBOUND_CONF }, ['/etc/unbound/unbound.conf.d']);
    const runner = new ScriptedRunner()
      .expect(['pidof', 'dnsmasq'], { code: 1 })
      .expect(['pidof', 'unbound'], { stdout: '812\n' });
    expect(await detectResolver({ root: host.root, runner })).toMatchObject({
      kind: 'unbound',
      confDir: '/etc/unbound/unbound.conf.d',
    });
    runner.assertDone();
  });

  it('says why nothing applies: resolvers the host does not use, unbound without the include', async () => {
    const host = fakeHost({ '/etc/resolv.conf': 'nameserver 10.0.0.2\n', ...DNSMASQ_CONF }, [
      SYSTEMD,
      '/etc/dnsmasq.d',
      '/etc/unbound/unbound.conf.d',
    ]);
    const runner = new ScriptedRunner()
      .expect(['systemctl', 'is-active', 'dnsmasq'], active)
      .expect(['systemctl', 'is-active', 'unbound'], active);
    const detected = await detectResolver({ root: host.root, runner });
    expect(detected.kind).toBe('manual');
    expect(detected.reason).toBe(
      'dnsmasq runs, but /etc/resolv.conf names no loopback nameserver, so this host does not ask it; ' +
        'unbound: /etc/unbound/unbound.conf does not include /etc/unbound/unbound.conf.d/*.conf',
    );
  });

  it('reports plainly when no resolver runs at all', async () => {
    const host = fakeHost({ '/etc/resolv.conf': 'nameserver 10.0.0.2\n' });
    const runner = new ScriptedRunner()
      .expect(['pidof', 'dnsmasq'], { code: 1 })
      .expect(['pidof', 'unbound'], { code: 1 });
    expect(await detectResolver({ root: host.root, runner })).toEqual({
      kind: 'manual',
      reason: 'no systemd-resolved, dnsmasq or unbound is running',
      warnings: [],
    });
  });
});

describe('systemd-resolved integration', () => {
  const link = (values: string) => ({ stdout: `Link 7 (moor0): ${values}\n` });

  it('sets server, routing domains and DefaultRoute=no; a second apply only reads', async () => {
    const host = fakeHost({ '/etc/resolv.conf': 'nameserver 127.0.0.53\n' }, [SYSTEMD, RESOLVED]);
    const runner = new ScriptedRunner()
      .expect(['resolvectl', 'status'])
      .expect(['resolvectl', 'dns', 'moor0'], link(''))
      .expect(['resolvectl', 'dns', 'moor0', '100.70.0.10'])
      .expect(['resolvectl', 'domain', 'moor0'], link(''))
      .expect(['resolvectl', 'domain', 'moor0', '~clusterset.local', '~example.org'])
      .expect(['resolvectl', 'default-route', 'moor0'], link('yes'))
      .expect(['resolvectl', 'default-route', 'moor0', 'false']);
    const dns = integration(host, runner);
    const first = await dns.apply();
    runner.assertDone();
    expect(first).toMatchObject({ kind: 'systemd-resolved', changed: true, instructions: '' });
    expect(first.summary).toBe(
      'systemd-resolved: clusterset.local, example.org → 100.70.0.10:53 on link moor0',
    );
    expect(JSON.parse(readFileSync(join(host.stateDir, RECORD_FILE), 'utf8'))).toEqual({
      version: 1,
      kind: 'systemd-resolved',
      reason: 'systemd-resolved is running',
      interfaceName: 'moor0',
    });

    runner
      .expect(['resolvectl', 'status'])
      .expect(['resolvectl', 'dns', 'moor0'], link('100.70.0.10'))
      .expect(['resolvectl', 'domain', 'moor0'], link('~example.org ~clusterset.local'))
      .expect(['resolvectl', 'default-route', 'moor0'], link('no'));
    expect(await dns.apply()).toMatchObject({ changed: false, applied: [] });
    runner.assertDone();
  });

  it('ensure re-applies only what a re-created link lost, and waits for a missing link', async () => {
    const host = fakeHost({}, [SYSTEMD, RESOLVED]);
    const runner = new ScriptedRunner()
      .expect(['resolvectl', 'status'])
      .expect(['resolvectl', 'dns', 'moor0'], {
        code: 1,
        stderr: 'Failed to resolve interface "moor0": No such device',
      });
    const dns = integration(host, runner, { customDomains: [] });
    expect(await dns.apply()).toMatchObject({
      changed: false,
      summary: 'systemd-resolved: waiting for link moor0',
    });

    runner
      .expect(['resolvectl', 'dns', 'moor0'], link(''))
      .expect(['resolvectl', 'dns', 'moor0', '100.70.0.10'])
      .expect(['resolvectl', 'domain', 'moor0'], link('~clusterset.local'))
      .expect(['resolvectl', 'default-route', 'moor0'], link('no'));
    expect(await dns.ensure()).toMatchObject({
      changed: true,
      applied: ['resolvectl dns moor0 100.70.0.10'],
    });
    runner.assertDone();
  });

  it('writes a port into the server address, and reverts on remove (once)', async () => {
    const host = fakeHost({}, [SYSTEMD, RESOLVED]);
    const runner = new ScriptedRunner()
      .expect(['resolvectl', 'status'])
      .expect(['resolvectl', 'dns', 'moor0'], link('100.70.0.10'))
      .expect(['resolvectl', 'dns', 'moor0', '127.0.0.1:5353'])
      .expect(['resolvectl', 'domain', 'moor0'], link('~clusterset.local'))
      .expect(['resolvectl', 'default-route', 'moor0'], link('no'))
      .expect(['resolvectl', 'revert', 'moor0']);
    const dns = integration(host, runner, {
      server: { address: '127.0.0.1', port: 5353 },
      customDomains: [],
    });
    await dns.apply();
    expect(await dns.remove()).toEqual(['resolvectl revert moor0']);
    expect(await dns.remove()).toEqual([]);
    expect(existsSync(join(host.stateDir, RECORD_FILE))).toBe(false);
    runner.assertDone();
  });
});

describe('dnsmasq integration', () => {
  const PATH = '/etc/dnsmasq.d/moor-clusterset.conf';
  const CONTENT = [
    MARKER,
    'server=/clusterset.local/100.70.0.10',
    'server=/example.org/100.70.0.10',
    'rebind-domain-ok=/clusterset.local/example.org/',
    '',
  ].join('\n');
  const dnsmasqHost = () => fakeHost({ ...LOOPBACK_RESOLV, ...DNSMASQ_CONF }, [SYSTEMD, '/etc/dnsmasq.d']);

  it('writes the drop-in, checks it, restarts dnsmasq; a second apply changes nothing; remove undoes it', async () => {
    const host = dnsmasqHost();
    const file = join(host.root, PATH);
    const runner = new ScriptedRunner()
      .expect(['systemctl', 'is-active', 'dnsmasq'], active)
      .expect(['dnsmasq', '--test', `--conf-file=${file}`], { stderr: 'dnsmasq: syntax check OK.\n' })
      .expect(['systemctl', 'restart', 'dnsmasq'])
      .expect(['systemctl', 'is-active', 'dnsmasq'], active);
    const dns = integration(host, runner);
    const first = await dns.apply();
    runner.assertDone();
    expect(readFileSync(file, 'utf8')).toBe(CONTENT);
    expect(first).toMatchObject({
      kind: 'dnsmasq',
      changed: true,
      applied: [`wrote ${PATH}`, 'systemctl restart dnsmasq'],
    });

    runner.expect(['systemctl', 'is-active', 'dnsmasq'], active);
    expect(await dns.apply()).toMatchObject({ changed: false, applied: [] });
    expect(await dns.ensure()).toMatchObject({ changed: false, applied: [] });
    runner.assertDone();

    runner.expect(['systemctl', 'restart', 'dnsmasq']).expect(['systemctl', 'is-active', 'dnsmasq'], active);
    expect(await dns.remove()).toEqual([`removed ${PATH}`]);
    expect(existsSync(file)).toBe(false);
    runner.assertDone();
  });

  it('writes ip#port for a server on another port', async () => {
    const host = dnsmasqHost();
    const runner = new ScriptedRunner()
      .expect(['systemctl', 'is-active', 'dnsmasq'], active)
      .expect(['dnsmasq', '--test', /--conf-file=.*/])
      .expect(['systemctl', 'restart', 'dnsmasq'])
      .expect(['systemctl', 'is-active', 'dnsmasq'], active);
    await integration(host, runner, {
      server: { address: '127.0.0.1', port: 5353 },
      customDomains: [],
    }).apply();
    expect(readFileSync(join(host.root, PATH), 'utf8')).toContain(
      'server=/clusterset.local/127.0.0.1#5353\n',
    );
  });

  it('puts nothing in place when dnsmasq rejects the file', async () => {
    const host = dnsmasqHost();
    const runner = new ScriptedRunner()
      .expect(['systemctl', 'is-active', 'dnsmasq'], active)
      .expect(['dnsmasq', '--test', /--conf-file=.*/], { code: 1, stderr: 'dnsmasq: bad option at line 2' });
    await expect(integration(host, runner).apply()).rejects.toThrow(/rejects the moor drop-in.*bad option/);
    expect(existsSync(join(host.root, PATH))).toBe(false);
    runner.assertDone();
  });

  it('restores the previous state when dnsmasq does not come back', async () => {
    const host = dnsmasqHost();
    const runner = new ScriptedRunner()
      .expect(['systemctl', 'is-active', 'dnsmasq'], active)
      .expect(['dnsmasq', '--test', /--conf-file=.*/])
      .expect(['systemctl', 'restart', 'dnsmasq'])
      .expect(['systemctl', 'is-active', 'dnsmasq'], { code: 3, stdout: 'failed\n' })
      .expect(['systemctl', 'restart', 'dnsmasq'])
      .expect(['systemctl', 'is-active', 'dnsmasq'], active);
    await expect(integration(host, runner).apply()).rejects.toThrow(MoorError);
    expect(existsSync(join(host.root, PATH))).toBe(false);
    runner.assertDone();
  });

  it('never replaces a file it did not write', async () => {
    const host = dnsmasqHost();
    writeFileSync(join(host.root, PATH), 'server=/corp/10.0.0.1\n');
    const runner = new ScriptedRunner().expect(['systemctl', 'is-active', 'dnsmasq'], active);
    await expect(integration(host, runner).apply()).rejects.toThrow(/was not written by moor/);
    expect(readFileSync(join(host.root, PATH), 'utf8')).toBe('server=/corp/10.0.0.1\n');
  });

  it('without systemd or an init script, leaves the file and says to restart dnsmasq', async () => {
    const host = fakeHost({ ...LOOPBACK_RESOLV, ...DNSMASQ_CONF }, ['/etc/dnsmasq.d']);
    const runner = new ScriptedRunner()
      .expect(['pidof', 'dnsmasq'], { stdout: '311\n' })
      .expect(['dnsmasq', '--test', /--conf-file=.*/]);
    const outcome = await integration(host, runner).apply();
    expect(outcome.applied).toEqual([`wrote ${PATH}`]);
    expect(outcome.warnings).toEqual([
      'restart dnsmasq to load the change: it reads server= lines only at start (SIGHUP is not enough)',
    ]);
    expect(outcome.instructions).toBe(`restart dnsmasq to load ${PATH}`);
  });

  it('uses the init script without systemd', async () => {
    const host = fakeHost({ ...LOOPBACK_RESOLV, ...DNSMASQ_CONF, '/etc/init.d/dnsmasq': '#!/bin/sh\n' }, [
      '/etc/dnsmasq.d',
    ]);
    const runner = new ScriptedRunner()
      .expect(['pidof', 'dnsmasq'], { stdout: '311\n' })
      .expect(['dnsmasq', '--test', /--conf-file=.*/])
      .expect(['/etc/init.d/dnsmasq', 'restart']);
    expect((await integration(host, runner).apply()).applied).toEqual([
      `wrote ${PATH}`,
      '/etc/init.d/dnsmasq restart',
    ]);
  });
});

describe('unbound integration', () => {
  const PATH = '/etc/unbound/unbound.conf.d/moor-clusterset.conf';
  const unboundHost = () =>
    fakeHost({ ...LOOPBACK_RESOLV, ...UNBOUND_CONF }, [SYSTEMD, '/etc/unbound/unbound.conf.d']);
  const detect = (runner: ScriptedRunner) =>
    runner
      .expect(['systemctl', 'is-active', 'dnsmasq'], inactive)
      .expect(['systemctl', 'is-active', 'unbound'], active);

  it('writes forward zones marked insecure, checks and reloads; idempotent; remove reloads', async () => {
    const host = unboundHost();
    const runner = detect(new ScriptedRunner())
      .expect(['unbound-checkconf'])
      .expect(['unbound-control', 'reload'], { stdout: 'ok\n' });
    const dns = integration(host, runner, { server: { address: '127.0.0.1', port: 5353 } });
    expect((await dns.apply()).applied).toEqual([`wrote ${PATH}`, 'unbound-control reload']);
    expect(readFileSync(join(host.root, PATH), 'utf8')).toBe(
      [
        MARKER,
        'server:',
        '    domain-insecure: "clusterset.local"',
        '    private-domain: "clusterset.local"',
        '    domain-insecure: "example.org"',
        '    private-domain: "example.org"',
        '    do-not-query-localhost: no',
        'forward-zone:',
        '    name: "clusterset.local"',
        '    forward-addr: 127.0.0.1@5353',
        'forward-zone:',
        '    name: "example.org"',
        '    forward-addr: 127.0.0.1@5353',
        '',
      ].join('\n'),
    );
    detect(runner);
    expect(await dns.apply()).toMatchObject({ changed: false });
    runner.expect(['unbound-control', 'reload'], { stdout: 'ok\n' });
    expect(await dns.remove()).toEqual([`removed ${PATH}`]);
    runner.assertDone();
  });

  it('falls back to systemctl reload when unbound-control is not enabled', async () => {
    const host = unboundHost();
    const runner = detect(new ScriptedRunner())
      .expect(['unbound-checkconf'])
      .expect(['unbound-control', 'reload'], { code: 1, stderr: 'error: connect: No such file or directory' })
      .expect(['systemctl', 'reload', 'unbound']);
    const outcome = await integration(host, runner, { customDomains: [] }).apply();
    expect(outcome.applied).toEqual([`wrote ${PATH}`, 'systemctl reload unbound']);
    expect(readFileSync(join(host.root, PATH), 'utf8')).not.toContain('do-not-query-localhost');
  });
});

describe('no supported resolver', () => {
  it('changes nothing and returns instructions with snippets for every resolver', async () => {
    const host = fakeHost({ '/etc/resolv.conf': 'nameserver 10.0.0.2\n' });
    const runner = new ScriptedRunner()
      .expect(['pidof', 'dnsmasq'], { code: 1 })
      .expect(['pidof', 'unbound'], { code: 1 });
    const dns = integration(host, runner, { server: { address: '100.70.0.10', port: 5353 } });
    const outcome = await dns.apply();
    runner.assertDone();
    expect(outcome).toMatchObject({ kind: 'manual', changed: false, applied: [] });
    expect(outcome.instructions).toContain('resolvectl dns moor0 100.70.0.10:5353');
    expect(outcome.instructions).toContain('resolvectl domain moor0 ~clusterset.local ~example.org');
    expect(outcome.instructions).toContain('server=/clusterset.local/100.70.0.10#5353');
    expect(outcome.instructions).toContain('forward-addr: 100.70.0.10@5353');
    expect(outcome.instructions).toContain('dig @100.70.0.10 -p 5353');
    expect(outcome.instructions).not.toContain(MARKER);
    expect(readFileSync(join(host.root, '/etc/resolv.conf'), 'utf8')).toBe('nameserver 10.0.0.2\n');
    expect(dns.status()).toMatchObject({ kind: 'manual', instructions: outcome.instructions });
    expect(await dns.ensure()).toMatchObject({ kind: 'manual', changed: false });
    expect(await dns.remove()).toEqual([]);
  });
});

describe('switching and validation', () => {
  it('undoes the old integration when the host now runs another resolver', async () => {
    const host = fakeHost({ ...LOOPBACK_RESOLV, ...DNSMASQ_CONF }, [SYSTEMD, '/etc/dnsmasq.d']);
    const runner = new ScriptedRunner()
      .expect(['systemctl', 'is-active', 'dnsmasq'], active)
      .expect(['dnsmasq', '--test', /--conf-file=.*/])
      .expect(['systemctl', 'restart', 'dnsmasq'])
      .expect(['systemctl', 'is-active', 'dnsmasq'], active);
    const dns = integration(host, runner, { customDomains: [] });
    await dns.apply();
    mkdirSync(join(host.root, RESOLVED), { recursive: true });
    runner
      .expect(['resolvectl', 'status'])
      .expect(['systemctl', 'restart', 'dnsmasq'])
      .expect(['systemctl', 'is-active', 'dnsmasq'], active)
      .expect(['resolvectl', 'dns', 'moor0'], { stdout: 'Link 7 (moor0):\n' })
      .expect(['resolvectl', 'dns', 'moor0', '100.70.0.10'])
      .expect(['resolvectl', 'domain', 'moor0'], { stdout: 'Link 7 (moor0): ~clusterset.local\n' })
      .expect(['resolvectl', 'default-route', 'moor0'], { stdout: 'Link 7 (moor0): no\n' });
    const outcome = await dns.apply();
    runner.assertDone();
    expect(outcome.kind).toBe('systemd-resolved');
    expect(outcome.applied[0]).toBe('removed /etc/dnsmasq.d/moor-clusterset.conf');
    expect(existsSync(join(host.root, '/etc/dnsmasq.d/moor-clusterset.conf'))).toBe(false);
  });

  it('rejects wildcard addresses, bad ports and bad domains', () => {
    const host = fakeHost({});
    const runner = new ScriptedRunner();
    expect(() => integration(host, runner, { server: { address: '0.0.0.0', port: 53 } })).toThrow(MoorError);
    expect(() => integration(host, runner, { server: { address: '10.0.0.1', port: 0 } })).toThrow(MoorError);
    expect(() => integration(host, runner, { customDomains: ['bad domain'] })).toThrow(MoorError);
  });
});

describe('through the HostResolverPort seam', () => {
  /** A strict fake: records every call; detection answers what the test says. */
  class FakeHostResolver implements HostResolverPort {
    readonly calls: string[] = [];
    detection: ResolverDetection = {
      kind: 'dnsmasq',
      reason: 'dnsmasq runs',
      warnings: [],
      confDir: '/etc/dnsmasq.d',
    };
    async detect(): Promise<ResolverDetection> {
      this.calls.push('detect');
      return this.detection;
    }
    async ensureResolvedLink(ifname: string): Promise<{ applied: string[]; linkMissing: boolean }> {
      this.calls.push(`ensure-link ${ifname}`);
      return { applied: [], linkMissing: false };
    }
    async revertResolvedLink(ifname: string): Promise<boolean> {
      this.calls.push(`revert-link ${ifname}`);
      return true;
    }
    async installDropin(resolver: string, path: string, content: string) {
      this.calls.push(`install ${resolver} ${path} ${content.split('\n').length} lines`);
      return { applied: [`wrote ${path}`], warnings: [] };
    }
    async removeDropin(resolver: string, path: string): Promise<boolean> {
      this.calls.push(`remove ${resolver} ${path}`);
      return true;
    }
  }

  it('the integration decides and renders; the port alone touches the host', async () => {
    const host = fakeHost({});
    const port = new FakeHostResolver();
    const resolver = integration(host, new ScriptedRunner(), { host: port });
    const applied = await resolver.apply();
    expect(applied).toMatchObject({ kind: 'dnsmasq', changed: true });
    expect(port.calls).toEqual(['detect', `install dnsmasq /etc/dnsmasq.d/${DROPIN_NAME} 5 lines`]);
    // The host's /etc was never written by the integration itself.
    expect(existsSync(join(host.root, 'etc'))).toBe(false);
    port.calls.length = 0;
    expect(await resolver.remove()).toEqual([`removed /etc/dnsmasq.d/${DROPIN_NAME}`]);
    expect(port.calls).toEqual([`remove dnsmasq /etc/dnsmasq.d/${DROPIN_NAME}`]);
  });
});
