// What the host's own traffic depends on, read from the host: the next hops of its default
// routes, its nameservers, and the addresses of a host name (the broker's). The planner keeps
// member subnets away from them (src/plan/members.ts, SelfDescription.protected).
import { lookup } from 'node:dns/promises';
import { readFile } from 'node:fs/promises';
import { tryParseIpv4 } from '../net/ipv4.ts';
import type { CommandRunner } from './exec.ts';

export interface HostNetworkPort {
  /** IPv4 next hops of the default routes, in every routing table (multipath included). */
  defaultGateways(): Promise<string[]>;
  /** IPv4 nameservers the host's resolver (and systemd-resolved behind a stub) asks. */
  nameservers(): Promise<string[]>;
  /** IPv4 addresses of a host name; an IP literal is returned as it is. */
  resolve(name: string): Promise<string[]>;
}

/** resolv.conf, and the upstream list systemd-resolved keeps when resolv.conf names its stub. */
export const RESOLVER_FILES = ['/etc/resolv.conf', '/run/systemd/resolve/resolv.conf'] as const;

interface IpRouteJson {
  gateway?: string;
  nexthops?: Array<{ gateway?: string }>;
}

export class HostNetworkReader implements HostNetworkPort {
  private readonly runner: CommandRunner;
  private readonly resolverFiles: readonly string[];

  constructor(runner: CommandRunner, resolverFiles: readonly string[] = RESOLVER_FILES) {
    this.runner = runner;
    this.resolverFiles = resolverFiles;
  }

  async defaultGateways(): Promise<string[]> {
    const r = await this.runner.run(['ip', '-j', '-4', 'route', 'show', 'default', 'table', 'all']);
    return parseDefaultGateways(r.stdout);
  }

  async nameservers(): Promise<string[]> {
    const texts = await Promise.all(
      this.resolverFiles.map((f) => readFile(f, 'utf8').catch(() => '')), // a missing file names none
    );
    return unique(texts.flatMap(parseNameservers).filter((a) => tryParseIpv4(a).ok));
  }

  async resolve(name: string): Promise<string[]> {
    if (tryParseIpv4(name).ok) return [name];
    const found = await lookup(name, { all: true, family: 4 });
    return unique(found.map((a) => a.address));
  }
}

/** Gateways of `ip -j route show default` output. */
export function parseDefaultGateways(json: string): string[] {
  const routes = (json.trim() === '' ? [] : JSON.parse(json)) as IpRouteJson[];
  const hops = routes.flatMap((r) => [r.gateway, ...(r.nexthops ?? []).map((h) => h.gateway)]);
  return unique(hops.filter((h): h is string => h !== undefined && tryParseIpv4(h).ok));
}

/** The addresses of a resolv.conf's `nameserver` lines, either family (comments: # or ;). The
 * one reader of resolv.conf: the DNS resolver integration uses it too. */
export function parseNameservers(text: string): string[] {
  const out: string[] = [];
  for (const line of text.split('\n')) {
    const [keyword, value] = line
      .replace(/[#;].*$/, '')
      .trim()
      .split(/\s+/);
    if (keyword === 'nameserver' && value !== undefined && value !== '') out.push(value);
  }
  return out;
}

function unique(list: string[]): string[] {
  return [...new Set(list)];
}
