// Addresses that move between nodes (a gateway's floating address, egress IPs): add them and
// announce each with gratuitous ARP, or drop them. Measured (docs in /work/shared/docs/
// egress-datapath.md): `ip addr add` sends no ARP, so the announcement is explicit and sent twice
// against a lost frame; iputils' arping waits a second after its packet, so it is never awaited.

import { normalizeAddressCidr } from '../net/ipv4.ts';
import type { CommandRunner } from './exec.ts';
import type { NetlinkBasic } from './netlink/types.ts';

export interface HeldAddress {
  /** Address with prefix, e.g. 10.99.10.10/24. */
  cidr: string;
  dev: string;
}

export interface AddressHolderPort {
  /** Add whatever is missing, then announce every address (gratuitous ARP, twice). */
  take(addresses: HeldAddress[]): Promise<void>;
  /** Remove every address that is present; all deletions run at once. Absent is fine. */
  drop(addresses: HeldAddress[]): Promise<void>;
  /** Which of `addresses` are on their device now (read fresh). */
  present(addresses: HeldAddress[]): Promise<HeldAddress[]>;
}

/** Sends one gratuitous ARP for `address` on `dev`, without waiting for the sender to exit. */
export type GratuitousArp = (address: string, dev: string) => void;

export function arpingAnnouncer(runner: CommandRunner, log: (line: string) => void): GratuitousArp {
  let warned = false;
  return (address, dev) => {
    void runner
      .run(['arping', '-U', '-c', '1', '-I', dev, address], { allowNonZeroExit: true, timeoutMs: 5_000 })
      .catch((err: unknown) => {
        if (warned) return;
        warned = true;
        log(
          `gratuitous ARP for ${address} on ${dev} failed (${err instanceof Error ? err.message : String(err)}): is arping (iputils-arping) installed? Neighbours learn the move only when their caches expire`,
        );
      });
  };
}

const ipOf = (cidr: string) => cidr.split('/')[0] ?? '';

export class AddressHolder implements AddressHolderPort {
  readonly #netlink: NetlinkBasic;
  readonly #announce: GratuitousArp;

  constructor(netlink: NetlinkBasic, announce: GratuitousArp) {
    this.#netlink = netlink;
    this.#announce = announce;
  }

  async take(addresses: HeldAddress[]): Promise<void> {
    const have = new Set(
      (await this.present(addresses)).map((a) => `${a.dev} ${normalizeAddressCidr(a.cidr)}`),
    );
    for (const a of addresses) {
      if (!have.has(`${a.dev} ${normalizeAddressCidr(a.cidr)}`)) await this.#netlink.addrAdd(a.dev, a.cidr);
    }
    for (let i = 0; i < 2; i++) for (const a of addresses) this.#announce(ipOf(a.cidr), a.dev);
  }

  async drop(addresses: HeldAddress[]): Promise<void> {
    // No listing first: dropping is on the fencing deadline. A deletion that fails is checked
    // against the kernel afterwards; only an address still present is an error.
    const failed = await Promise.all(
      addresses.map((a) =>
        this.#netlink.addrDel(a.dev, a.cidr).then(
          () => undefined,
          (err: unknown) => ({ a, err }),
        ),
      ),
    );
    const retry = failed.filter((f) => f !== undefined);
    if (retry.length === 0) return;
    const still = await this.present(retry.map((f) => f.a));
    if (still.length > 0) throw retry.find((f) => f.a === still[0])?.err ?? retry[0]?.err;
  }

  async present(addresses: HeldAddress[]): Promise<HeldAddress[]> {
    const devs = [...new Set(addresses.map((a) => a.dev))];
    const byDev = new Map<string, Set<string>>();
    for (const dev of devs) {
      const link = await this.#netlink.linkGet(dev);
      const list = link ? await this.#netlink.addrList(dev) : [];
      byDev.set(dev, new Set(list.map((x) => normalizeAddressCidr(x.cidr))));
    }
    return addresses.filter((a) => byDev.get(a.dev)?.has(normalizeAddressCidr(a.cidr)));
  }
}
