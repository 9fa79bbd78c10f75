// The host addresses no member subnet may contain (SelfDescription.protected): the broker API
// server the agent watches, the host's default gateways and its nameservers. A route to any of
// them through a tunnel would carry the host's own traffic to a member: broker traffic into a
// hostile member's tunnel (the agent would never see the hostile object deleted), or every
// cable's underlay traffic. Read fresh on every plan; when a read fails, the last good answer
// stays in force, so a transient error never drops a protection.
import type { HostNetworkPort } from '../dataplane/host-network.ts';
import type { ProtectedAddress } from '../plan/members.ts';

export const WHY_BROKER = 'the broker API server';
export const WHY_GATEWAY = "this host's default gateway";
export const WHY_NAMESERVER = "one of this host's nameservers";

type Kind = 'broker' | 'gateways' | 'nameservers';

export class ProtectedAddressSource {
  private readonly host: HostNetworkPort;
  private readonly brokerHost: string;
  private readonly log: (line: string) => void;
  private readonly last: Record<Kind, string[]> = { broker: [], gateways: [], nameservers: [] };
  private readonly failing = new Set<Kind>();

  constructor(o: { host: HostNetworkPort; brokerServer: string; log: (line: string) => void }) {
    this.host = o.host;
    this.brokerHost = brokerHostOf(o.brokerServer);
    this.log = o.log;
  }

  async read(): Promise<ProtectedAddress[]> {
    const [broker, gateways, nameservers] = await Promise.all([
      this.keep('broker', `resolving the broker host ${this.brokerHost}`, () =>
        this.host.resolve(this.brokerHost),
      ),
      this.keep('gateways', 'reading the default routes', () => this.host.defaultGateways()),
      this.keep('nameservers', 'reading the nameservers', () => this.host.nameservers()),
    ]);
    return [
      ...broker.map((address) => ({ address, why: WHY_BROKER })),
      ...gateways.map((address) => ({ address, why: WHY_GATEWAY })),
      ...nameservers.map((address) => ({ address, why: WHY_NAMESERVER })),
    ];
  }

  /** Runs one read; on failure logs once (until it works again) and returns the last answer. */
  private async keep(what: Kind, doing: string, read: () => Promise<string[]>): Promise<string[]> {
    try {
      const value = await read();
      this.last[what] = value;
      this.failing.delete(what);
      return value;
    } catch (err) {
      if (!this.failing.has(what)) {
        this.failing.add(what);
        this.log(
          `protected addresses: ${doing} failed (${err instanceof Error ? err.message : String(err)}); keeping the last known ${what}`,
        );
      }
      return this.last[what];
    }
  }
}

/** The host part of the broker URL ("https://10.99.0.2:6443" → "10.99.0.2"). */
export function brokerHostOf(server: string): string {
  try {
    return new URL(server).hostname.replace(/^\[(.*)\]$/, '$1');
  } catch {
    return server;
  }
}
