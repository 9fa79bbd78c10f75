// Strict fake of the host network reader: it says what the test tells it to.
import { tryParseIpv4 } from '../net/ipv4.ts';
import type { HostNetworkPort } from './host-network.ts';

export class FakeHostNetwork implements HostNetworkPort {
  gateways: string[] = [];
  servers: string[] = [];
  names = new Map<string, string[]>();
  failing: Error | undefined;

  async defaultGateways(): Promise<string[]> {
    if (this.failing) throw this.failing;
    return [...this.gateways];
  }

  async nameservers(): Promise<string[]> {
    return [...this.servers];
  }

  async resolve(name: string): Promise<string[]> {
    if (tryParseIpv4(name).ok) return [name];
    const found = this.names.get(name);
    if (!found) throw new Error(`getaddrinfo ENOTFOUND ${name}`);
    return [...found];
  }
}
