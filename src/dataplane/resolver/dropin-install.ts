// Installing and removing a resolver drop-in without ever leaving the host's resolver broken:
// the new file is syntax-checked before the resolver loads it, and if the check or the reload
// fails, the previous file (or none) is put back and the resolver reloaded with it.
//
// Loading: dnsmasq reads `server=` lines only when it starts. SIGHUP makes it clear its cache and
// re-read /etc/hosts, --addn-hosts, the DHCP host/option files and (with --no-poll) resolv.conf,
// but never the configuration files, so a new drop-in needs a restart: `systemctl restart
// dnsmasq` with systemd, `/etc/init.d/dnsmasq restart` without. Without either, the file is left
// in place and the operator is told to restart dnsmasq. A restart drops dnsmasq's cache and
// leaves a gap of well under a second; it happens only when the file changes (join, new custom
// domains), never on a routine ensure. unbound re-reads everything on `unbound-control reload`
// (or SIGHUP, which is what Debian's `systemctl reload unbound` sends).
import { MoorError } from '../../errors.ts';
import type { ResolverKind } from './detect.ts';
import { at, exists, type HostAccess, hasSystemd, probe, readText, removeFile, writeText } from './host.ts';

/** The first line of every drop-in moor writes; a file without it is never replaced or removed. */
export const MARKER =
  '# Written by moor: clusterset DNS goes to the moor agent. `moor leave` removes this file.';

export function isOurs(content: string | null): boolean {
  return content?.startsWith(MARKER) === true;
}

export type DropinResolver = Extract<ResolverKind, 'dnsmasq' | 'unbound'>;

export interface DropinResult {
  /** Commands run and files written that changed the host. */
  readonly applied: readonly string[];
  readonly warnings: readonly string[];
}

const UNCHANGED: DropinResult = { applied: [], warnings: [] };

export async function installDropin(
  host: HostAccess,
  resolver: DropinResolver,
  path: string,
  content: string,
): Promise<DropinResult> {
  const previous = readText(host, path);
  if (previous === content) return UNCHANGED;
  if (previous !== null && !isOurs(previous)) {
    throw new MoorError('system', `${path} exists and was not written by moor; not replacing it`, {
      hint: `move ${path} away, or configure ${resolver} by hand (see \`moor status\`)`,
    });
  }
  const restore = () => (previous === null ? removeFile(host, path) : writeText(host, path, previous));
  writeText(host, path, content);
  try {
    await checkSyntax(host, resolver, path);
  } catch (err) {
    restore();
    throw err;
  }
  try {
    const loaded = await load(host, resolver);
    return { applied: [`wrote ${path}`, ...loaded.applied], warnings: loaded.warnings };
  } catch (err) {
    restore();
    await load(host, resolver).catch(() => undefined);
    throw err;
  }
}

/** Removes our drop-in (never someone else's file) and reloads; false when there was none. */
export async function removeDropin(
  host: HostAccess,
  resolver: DropinResolver,
  path: string,
): Promise<boolean> {
  if (!isOurs(readText(host, path))) return false;
  removeFile(host, path);
  await load(host, resolver);
  return true;
}

async function checkSyntax(host: HostAccess, resolver: DropinResolver, path: string): Promise<void> {
  // dnsmasq checks only the file given (--conf-file replaces the default configuration);
  // unbound-checkconf checks the whole configuration, which includes the drop-in.
  const argv =
    resolver === 'dnsmasq' ? ['dnsmasq', '--test', `--conf-file=${at(host, path)}`] : ['unbound-checkconf'];
  const result = await probe(host, argv);
  if (result?.code === 0) return;
  throw new MoorError(
    'system',
    `${resolver} rejects the moor drop-in ${path}: ${result?.stderr.trim() || result?.stdout.trim() || `${argv[0]} did not run`}`,
    { hint: `nothing was changed; run "${argv.join(' ')}" to see why` },
  );
}

async function load(host: HostAccess, resolver: DropinResolver): Promise<DropinResult> {
  return resolver === 'dnsmasq' ? restartDnsmasq(host) : reloadUnbound(host);
}

async function restartDnsmasq(host: HostAccess): Promise<DropinResult> {
  if (hasSystemd(host)) {
    await host.runner.run(['systemctl', 'restart', 'dnsmasq']);
    const active = await probe(host, ['systemctl', 'is-active', 'dnsmasq']);
    if (active?.stdout.trim() !== 'active') {
      throw new MoorError('system', 'dnsmasq did not come back after a restart', {
        hint: 'see "journalctl -u dnsmasq"; moor put the previous configuration back',
      });
    }
    return { applied: ['systemctl restart dnsmasq'], warnings: [] };
  }
  if (exists(host, '/etc/init.d/dnsmasq')) {
    await host.runner.run(['/etc/init.d/dnsmasq', 'restart']);
    return { applied: ['/etc/init.d/dnsmasq restart'], warnings: [] };
  }
  return {
    applied: [],
    warnings: [
      'restart dnsmasq to load the change: it reads server= lines only at start (SIGHUP is not enough)',
    ],
  };
}

async function reloadUnbound(host: HostAccess): Promise<DropinResult> {
  const control = await probe(host, ['unbound-control', 'reload']);
  if (control?.code === 0) return { applied: ['unbound-control reload'], warnings: [] };
  if (hasSystemd(host)) {
    await host.runner.run(['systemctl', 'reload', 'unbound']);
    return { applied: ['systemctl reload unbound'], warnings: [] };
  }
  throw new MoorError(
    'system',
    `unbound-control reload failed: ${control?.stderr.trim() || 'unbound-control did not run'}`,
    { hint: 'enable remote-control in unbound.conf, or reload unbound by hand' },
  );
}
