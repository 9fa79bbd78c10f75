// Facts about the host's underlay network, read from the kernel.
import type { CommandRunner } from '../dataplane/exec.ts';
import { MoorError } from '../errors.ts';

/**
 * The source address the kernel would use towards the internet, as Submariner's gateway picks
 * its private IP (spec §2.2). `ip route get` only consults the routing table; nothing is sent.
 */
export async function detectPrivateIp(runner: CommandRunner): Promise<string> {
  const r = await runner.run(['ip', '-j', 'route', 'get', '8.8.8.8'], { allowNonZeroExit: true });
  const routes = r.code === 0 ? (JSON.parse(r.stdout) as Array<{ prefsrc?: string }>) : [];
  const src = routes[0]?.prefsrc;
  if (!src) {
    throw new MoorError(
      'invalid-argument',
      'cannot tell which address other gateways reach this host at (no default route)',
      {
        hint: 'pass --private-ip with the underlay address of this host',
      },
    );
  }
  return src;
}

/** Every IPv4 address configured on the host, with its prefix, except loopback. */
export async function localAddresses(
  runner: CommandRunner,
): Promise<Array<{ ifname: string; cidr: string; address: string }>> {
  const r = await runner.run(['ip', '-j', '-4', 'addr', 'show']);
  const links = JSON.parse(r.stdout) as Array<{
    ifname: string;
    addr_info?: Array<{ family: string; local: string; prefixlen: number; scope?: string }>;
  }>;
  const out: Array<{ ifname: string; cidr: string; address: string }> = [];
  for (const link of links) {
    for (const a of link.addr_info ?? []) {
      if (a.family !== 'inet' || a.scope === 'host') continue;
      out.push({ ifname: link.ifname, cidr: `${a.local}/${a.prefixlen}`, address: a.local });
    }
  }
  return out;
}

/** Destinations of the main routing table that do not go through `exceptDev` (ours). */
export async function localRoutes(runner: CommandRunner, exceptDev: string): Promise<string[]> {
  const r = await runner.run(['ip', '-j', '-4', 'route', 'show', 'table', 'main']);
  const routes = JSON.parse(r.stdout) as Array<{ dst: string; dev?: string }>;
  return routes
    .filter((route) => route.dev !== exceptDev && route.dst !== 'default')
    .map((route) => (route.dst.includes('/') ? route.dst : `${route.dst}/32`));
}
