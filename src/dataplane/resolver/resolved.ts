// systemd-resolved: our server becomes the DNS server of the moor link, with the clusterset zones
// as routing-only domains ("~zone") and DefaultRoute off, so resolved sends exactly those names to
// us and nothing else; every other name is resolved as before. Naming the zones explicitly is also
// what makes resolved send `.local` names to unicast DNS at all (it keeps them for mDNS otherwise).
// resolved's built-in negative trust anchors include "local", so DNSSEC=yes does not reject our
// unsigned answers. These per-link settings live in resolved's memory and vanish when the link is
// re-created, hence `ensureResolvedLink` reads them and sets only what is missing.
import { MoorError } from '../../errors.ts';
import { type DnsServerAddress, type HostAccess, probe, resolvedServerSyntax } from './host.ts';

export interface ResolvedLinkResult {
  /** Commands that changed something (empty when the link was already right). */
  readonly applied: readonly string[];
  /** The link does not exist (yet): nothing to configure; the next ensure will. */
  readonly linkMissing: boolean;
}

const MISSING_LINK = /No such device|Failed to resolve interface|Unknown interface/i;

export async function ensureResolvedLink(
  host: HostAccess,
  ifname: string,
  server: DnsServerAddress,
  zones: readonly string[],
): Promise<ResolvedLinkResult> {
  const applied: string[] = [];
  const wantedServer = resolvedServerSyntax(server);
  const wantedDomains = zones.map((zone) => `~${zone}`);

  const servers = await readLinkSetting(host, ifname, 'dns');
  if (servers === null) return { applied, linkMissing: true };
  if (servers.length !== 1 || servers[0] !== wantedServer) {
    applied.push(await change(host, ['resolvectl', 'dns', ifname, wantedServer]));
  }
  const domains = await readLinkSetting(host, ifname, 'domain');
  if (domains === null) return { applied, linkMissing: true };
  if (!sameSet(domains, wantedDomains)) {
    applied.push(await change(host, ['resolvectl', 'domain', ifname, ...wantedDomains]));
  }
  const defaultRoute = await readLinkSetting(host, ifname, 'default-route');
  if (defaultRoute === null) return { applied, linkMissing: true };
  if (defaultRoute[0] !== 'no') {
    applied.push(await change(host, ['resolvectl', 'default-route', ifname, 'false']));
  }
  return { applied, linkMissing: false };
}

/** Drops every per-link setting we made. A missing link has none left: that counts as done. */
export async function revertResolvedLink(host: HostAccess, ifname: string): Promise<boolean> {
  const argv = ['resolvectl', 'revert', ifname];
  const result = await probe(host, argv);
  if (result?.code === 0) return true;
  if (result && MISSING_LINK.test(result.stderr)) return false;
  throw new MoorError(
    'system',
    `could not revert the DNS settings of ${ifname}: ${result?.stderr.trim() || 'resolvectl did not run'}`,
    { hint: `run "resolvectl revert ${ifname}" by hand` },
  );
}

/**
 * `resolvectl <setting> <link>` prints "Link 7 (moor0): value value"; returns the values, or
 * null when the link does not exist.
 */
async function readLinkSetting(host: HostAccess, ifname: string, setting: string): Promise<string[] | null> {
  const argv = ['resolvectl', setting, ifname];
  const result = await probe(host, argv);
  if (result?.code === 0) {
    const line = result.stdout.split('\n').find((l) => l.includes(`(${ifname}):`)) ?? '';
    const values = line.slice(line.indexOf('):') + 2).trim();
    return values === '' ? [] : values.split(/\s+/);
  }
  if (result && MISSING_LINK.test(result.stderr)) return null;
  throw new MoorError(
    'system',
    `cannot read the DNS settings of ${ifname}: ${result?.stderr.trim() || 'resolvectl did not run'}`,
    { hint: `run "resolvectl ${setting} ${ifname}" by hand; is systemd-resolved running?` },
  );
}

async function change(host: HostAccess, argv: string[]): Promise<string> {
  await host.runner.run(argv);
  return argv.join(' ');
}

function sameSet(a: readonly string[], b: readonly string[]): boolean {
  const set = new Set(a);
  return set.size === new Set(b).size && b.every((x) => set.has(x));
}
