// The host's resolver, as one port: detecting which resolver the host uses, configuring the
// systemd-resolved link, and installing or removing a dnsmasq/unbound drop-in. src/dns decides
// what to configure (HostResolverIntegration) and renders the drop-ins; only this code reads and
// writes the host's /etc and runs resolvectl, systemctl and the resolvers' syntax checks.
import type { CommandRunner } from '../exec.ts';
import { detectResolver, type ResolverDetection } from './detect.ts';
import { type DropinResolver, type DropinResult, installDropin, removeDropin } from './dropin-install.ts';
import type { DnsServerAddress, HostAccess } from './host.ts';
import { ensureResolvedLink, type ResolvedLinkResult, revertResolvedLink } from './resolved.ts';

export type { ResolverDetection, ResolverKind } from './detect.ts';
export { DROPIN_NAME } from './detect.ts';
export type { DropinResolver, DropinResult } from './dropin-install.ts';
export { isOurs, MARKER } from './dropin-install.ts';
export type { DnsServerAddress } from './host.ts';
export type { ResolvedLinkResult } from './resolved.ts';

export interface HostResolverPort {
  detect(): Promise<ResolverDetection>;
  ensureResolvedLink(
    ifname: string,
    server: DnsServerAddress,
    zones: readonly string[],
  ): Promise<ResolvedLinkResult>;
  /** false when the link is gone (and its settings with it). */
  revertResolvedLink(ifname: string): Promise<boolean>;
  /** Syntax-checked install with rollback; refuses a file moor did not write. */
  installDropin(resolver: DropinResolver, path: string, content: string): Promise<DropinResult>;
  /** false when there was no drop-in of ours. */
  removeDropin(resolver: DropinResolver, path: string): Promise<boolean>;
}

/** The real host: files under `root` ('/' in production, a temp dir in tests), programs run by `runner`. */
export class SystemHostResolver implements HostResolverPort {
  readonly #host: HostAccess;

  constructor(options: { runner: CommandRunner; root?: string }) {
    this.#host = { root: options.root ?? '/', runner: options.runner };
  }

  detect(): Promise<ResolverDetection> {
    return detectResolver(this.#host);
  }

  ensureResolvedLink(
    ifname: string,
    server: DnsServerAddress,
    zones: readonly string[],
  ): Promise<ResolvedLinkResult> {
    return ensureResolvedLink(this.#host, ifname, server, zones);
  }

  revertResolvedLink(ifname: string): Promise<boolean> {
    return revertResolvedLink(this.#host, ifname);
  }

  installDropin(resolver: DropinResolver, path: string, content: string): Promise<DropinResult> {
    return installDropin(this.#host, resolver, path, content);
  }

  removeDropin(resolver: DropinResolver, path: string): Promise<boolean> {
    return removeDropin(this.#host, resolver, path);
  }
}
