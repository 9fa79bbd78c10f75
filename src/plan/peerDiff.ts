// How the WireGuard peers we have differ from the peers we want, as plain data for the applier
// (practices 2 and 3: add before remove, leave equal peers alone).
import { formatCidr, tryParseAddressOrCidr } from '../net/ipv4.ts';

export interface PeerEndpoint {
  host: string;
  port: number;
}

/** What a WireGuard peer looks like to the applier; kernel peers have no cluster ID. */
export interface PeerConfig {
  publicKey: string;
  endpoint?: PeerEndpoint | undefined;
  allowedIPs: readonly string[];
}

export interface PeerDiff<Current extends PeerConfig, Desired extends PeerConfig> {
  add: Desired[];
  update: Array<{ current: Current; desired: Desired }>;
  remove: Current[];
  unchanged: Desired[];
}

/**
 * Peers are keyed by public key, as WireGuard keys them: a cluster whose gateway restarted (new
 * key) shows up as one add plus one remove, and the applier should add before removing. A peer
 * whose endpoint and allowed IPs are equal is left alone, because re-programming it interrupts
 * traffic. Allowed IPs compare as normalised sets. Every list is sorted by public key.
 */
export function diffPeers<Current extends PeerConfig, Desired extends PeerConfig>(
  current: readonly Current[],
  desired: readonly Desired[],
): PeerDiff<Current, Desired> {
  const currentByKey = new Map(current.map((peer) => [peer.publicKey, peer]));
  const desiredKeys = new Set(desired.map((peer) => peer.publicKey));
  const diff: PeerDiff<Current, Desired> = { add: [], update: [], remove: [], unchanged: [] };
  for (const want of desired) {
    const have = currentByKey.get(want.publicKey);
    if (have === undefined) diff.add.push(want);
    else if (samePeer(have, want)) diff.unchanged.push(want);
    else diff.update.push({ current: have, desired: want });
  }
  diff.remove = [...currentByKey.values()].filter((peer) => !desiredKeys.has(peer.publicKey));
  const byKey = (a: PeerConfig, b: PeerConfig) => compareText(a.publicKey, b.publicKey);
  diff.add.sort(byKey);
  diff.remove.sort(byKey);
  diff.unchanged.sort(byKey);
  diff.update.sort((a, b) => byKey(a.desired, b.desired));
  return diff;
}

function samePeer(a: PeerConfig, b: PeerConfig): boolean {
  return (
    a.endpoint?.host === b.endpoint?.host &&
    a.endpoint?.port === b.endpoint?.port &&
    sameAllowedIps(a.allowedIPs, b.allowedIPs)
  );
}

function sameAllowedIps(a: readonly string[], b: readonly string[]): boolean {
  const canonical = (list: readonly string[]) =>
    [
      ...new Set(
        list.map((text) => {
          const parsed = tryParseAddressOrCidr(text);
          return parsed.ok ? formatCidr(parsed.value) : text;
        }),
      ),
    ]
      .sort()
      .join(',');
  return canonical(a) === canonical(b);
}

function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
