// Which local resolver the host uses, so that clusterset names can be routed to moor without
// touching anything else: systemd-resolved, else a system dnsmasq, else a system unbound, else
// none we can configure safely (then `moor status` prints instructions). Detection only reads:
// files, `resolvectl status`, `systemctl is-active` (or `pidof` without systemd).
import {
  configLines,
  exists,
  type HostAccess,
  isLoopback,
  probe,
  readText,
  resolvConfNameservers,
  serviceRunning,
} from './host.ts';

export type ResolverKind = 'systemd-resolved' | 'dnsmasq' | 'unbound' | 'manual';

export interface ResolverDetection {
  readonly kind: ResolverKind;
  /** Why this integration applies, or why none could be used. */
  readonly reason: string;
  /** dnsmasq and unbound: the directory our drop-in goes into (a host path). */
  readonly confDir?: string;
  readonly warnings: readonly string[];
}

export const DROPIN_NAME = 'moor-clusterset.conf';
const DNSMASQ_DEFAULT_DIR = '/etc/dnsmasq.d';
const UNBOUND_CONF_DIR = '/etc/unbound/unbound.conf.d';

export async function detectResolver(host: HostAccess): Promise<ResolverDetection> {
  const skipped: string[] = [];
  if (exists(host, '/run/systemd/resolve')) {
    const status = await probe(host, ['resolvectl', 'status']);
    if (status?.code === 0) {
      return {
        kind: 'systemd-resolved',
        reason: 'systemd-resolved is running',
        warnings: resolvedWarnings(host),
      };
    }
    skipped.push('systemd-resolved: /run/systemd/resolve exists but `resolvectl status` fails');
  }
  const usesLoopback = resolvConfNameservers(host).some(isLoopback);
  const notUsed = (name: string) =>
    `${name} runs, but /etc/resolv.conf names no loopback nameserver, so this host does not ask it`;

  if (await serviceRunning(host, 'dnsmasq', 'dnsmasq')) {
    const dir = dnsmasqConfDir(host);
    if (dir === null) skipped.push(`dnsmasq: no conf-dir that would read ${DROPIN_NAME}`);
    else if (!usesLoopback) skipped.push(notUsed('dnsmasq'));
    else {
      return {
        kind: 'dnsmasq',
        reason: `dnsmasq is running and reads ${dir}`,
        confDir: dir,
        warnings: dnsmasqWarnings(host),
      };
    }
  }
  if (await serviceRunning(host, 'unbound', 'unbound')) {
    if (!exists(host, UNBOUND_CONF_DIR)) skipped.push(`unbound: ${UNBOUND_CONF_DIR} does not exist`);
    else if (!unboundIncludesConfDir(host))
      skipped.push(`unbound: /etc/unbound/unbound.conf does not include ${UNBOUND_CONF_DIR}/*.conf`);
    else if (!usesLoopback) skipped.push(notUsed('unbound'));
    else {
      return {
        kind: 'unbound',
        reason: `unbound is running and includes ${UNBOUND_CONF_DIR}`,
        confDir: UNBOUND_CONF_DIR,
        warnings: [],
      };
    }
  }
  const reason =
    skipped.length > 0 ? skipped.join('; ') : 'no systemd-resolved, dnsmasq or unbound is running';
  return { kind: 'manual', reason, warnings: [] };
}

/**
 * The conf-dir dnsmasq reads our drop-in from: a `conf-dir=` line of /etc/dnsmasq.conf whose
 * suffix filters admit the name (`*.conf` includes, `.bak` excludes), else Debian's default, which
 * its service passes on the command line (`-7 $CONFIG_DIR`, /etc/default/dnsmasq).
 */
export function dnsmasqConfDir(host: HostAccess): string | null {
  const conf = configLines(readText(host, '/etc/dnsmasq.conf') ?? '');
  for (const line of conf) {
    const match = /^conf-dir\s*=\s*(.+)$/.exec(line);
    if (!match) continue;
    const [dir, ...filters] = (match[1] as string).split(',').map((part) => part.trim());
    if (dir && admits(filters, DROPIN_NAME) && exists(host, dir)) return dir.replace(/\/+$/, '') || '/';
  }
  const defaults = configLines(readText(host, '/etc/default/dnsmasq') ?? '');
  const configured = defaults
    .map((line) => /^CONFIG_DIR\s*=\s*["']?([^"']*)["']?$/.exec(line)?.[1])
    .find((value) => value !== undefined);
  const [dir, ...filters] = (configured ?? DNSMASQ_DEFAULT_DIR).split(',').map((part) => part.trim());
  if (dir && admits(filters, DROPIN_NAME) && exists(host, dir)) return dir.replace(/\/+$/, '') || '/';
  return null;
}

function admits(filters: readonly string[], name: string): boolean {
  const includes = filters.filter((f) => f.startsWith('*')).map((f) => f.slice(1));
  const excludes = filters.filter((f) => f !== '' && !f.startsWith('*'));
  if (excludes.some((suffix) => name.endsWith(suffix))) return false;
  return includes.length === 0 || includes.some((suffix) => name.endsWith(suffix));
}

function unboundIncludesConfDir(host: HostAccess): boolean {
  const conf = configLines(readText(host, '/etc/unbound/unbound.conf') ?? '', true);
  const include = /^include(-toplevel)?:\s*"?\/etc\/unbound\/unbound\.conf\.d\/(\*|\*\.conf)"?$/;
  return conf.some((line) => include.test(line));
}

/** systemd-resolved only helps programs that ask it: through its stub in resolv.conf or nss-resolve. */
function resolvedWarnings(host: HostAccess): string[] {
  const stub = resolvConfNameservers(host).some((ns) => ns === '127.0.0.53' || ns === '127.0.0.54');
  const hosts = configLines(readText(host, '/etc/nsswitch.conf') ?? '').find((l) => l.startsWith('hosts:'));
  if (stub || /\bresolve\b/.test(hosts ?? '')) return [];
  return [
    '/etc/resolv.conf does not point to systemd-resolved (127.0.0.53) and nsswitch.conf has no "resolve": ' +
      '`resolvectl query` will find clusterset names, but programs using getaddrinfo will not',
  ];
}

/** dnsmasq before 2.92 validating DNSSEC cannot prove clusterset.local unsigned and rejects it. */
function dnsmasqWarnings(host: HostAccess): string[] {
  const conf = configLines(readText(host, '/etc/dnsmasq.conf') ?? '');
  if (!conf.some((line) => line === 'dnssec')) return [];
  return [
    'dnsmasq validates DNSSEC: versions before 2.92 reject the unsigned clusterset.local answers ' +
      '(check with dig through dnsmasq; `dnssec-check-unsigned=no` or dnsmasq >= 2.92 fixes it)',
  ];
}
