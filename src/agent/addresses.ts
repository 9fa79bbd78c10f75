// The host's clusterset addresses: given by the operator, or allocated from a pool. A claim is a
// ConfigMap in the broker namespace named after the address; creating it is atomic in the API
// server, so two hosts joining at once can never get the same address.
import { parseCluster, parseEndpoint } from '../broker/objectReader.ts';
import { MoorError } from '../errors.ts';
import { brokerPaths } from '../k8s/paths.ts';
import { isConflict, type KubeRestClient } from '../k8s/rest.ts';
import {
  contains,
  formatIpv4,
  hostCidr,
  type Ipv4Cidr,
  overlaps,
  parseCidr,
  parseIpv4,
  tryParseCidr,
  tryParseIpv4,
} from '../net/ipv4.ts';
import type { ProtectedAddress } from '../plan/members.ts';

export const ADDRESS_CLAIM_LABEL = 'moor/address-claim';
export const CLAIM_OWNER_LABEL = 'moor/cluster-id';

export function claimName(address: string): string {
  return `moor-address-${address.replaceAll('.', '-')}`;
}

/** Every CIDR other members already use (Cluster CIDRs, Endpoint subnets and tunnel endpoint
 * addresses: a clusterset address there would be routed into the tunnel that reaches it). */
export async function addressesInUse(
  client: KubeRestClient,
  namespace: string,
  self: string,
): Promise<Ipv4Cidr[]> {
  const used: Ipv4Cidr[] = [];
  const clusters = await client.get<{ items?: unknown[] }>(brokerPaths.clusters(namespace));
  for (const item of clusters.items ?? []) {
    const c = parseCluster(item);
    if (!c.ok || c.value.spec.cluster_id === self) continue;
    const s = c.value.spec;
    for (const text of [...s.cluster_cidr, ...s.service_cidr, ...s.global_cidr]) {
      const r = tryParseCidr(text);
      if (r.ok) used.push(r.value);
    }
  }
  const endpoints = await client.get<{ items?: unknown[] }>(brokerPaths.endpoints(namespace));
  for (const item of endpoints.items ?? []) {
    const e = parseEndpoint(item);
    if (!e.ok || e.value.spec.cluster_id === self) continue;
    for (const text of e.value.spec.subnets) {
      const r = tryParseCidr(text);
      if (r.ok) used.push(r.value);
    }
    for (const text of [e.value.spec.private_ip, e.value.spec.public_ip]) {
      const r = tryParseIpv4(text);
      if (r.ok) used.push(hostCidr(r.value));
    }
  }
  return used;
}

export interface AddressClaim {
  address: string;
  claim: string;
}

/** Claim `address` for `clusterId`; a claim we already hold counts as success. */
export async function claimAddress(
  client: KubeRestClient,
  namespace: string,
  clusterId: string,
  address: string,
): Promise<AddressClaim | undefined> {
  const name = claimName(address);
  try {
    await client.create(brokerPaths.configMaps(namespace), {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name, labels: { [ADDRESS_CLAIM_LABEL]: 'true', [CLAIM_OWNER_LABEL]: clusterId } },
      data: { address, clusterId },
    });
    return { address, claim: name };
  } catch (err) {
    if (!isConflict(err)) throw err;
    const existing = await client.get<{ metadata?: { labels?: Record<string, string> } }>(
      `${brokerPaths.configMaps(namespace)}/${name}`,
    );
    return existing.metadata?.labels?.[CLAIM_OWNER_LABEL] === clusterId
      ? { address, claim: name }
      : undefined;
  }
}

/** Allocate the first free address of `pool` (network and broadcast addresses skipped), never
 * one of `avoid` (addresses this host needs, see refuseProtectedAddresses). */
export async function allocateFromPool(
  client: KubeRestClient,
  namespace: string,
  clusterId: string,
  pool: string,
  avoid: readonly ProtectedAddress[] = [],
): Promise<AddressClaim> {
  const cidr = parseCidr(pool);
  const used = [
    ...(await addressesInUse(client, namespace, clusterId)),
    ...avoid.map((p) => hostCidr(parseIpv4(p.address))),
  ];
  const size = 2 ** (32 - cidr.prefix);
  const first = size > 2 ? 1 : 0;
  const last = size > 2 ? size - 2 : size - 1;
  for (let i = first; i <= last; i += 1) {
    const address = (cidr.network + i) >>> 0;
    if (used.some((u) => contains(u, address))) continue;
    const claim = await claimAddress(client, namespace, clusterId, formatIpv4(address));
    if (claim) return claim;
  }
  throw new MoorError('invalid-input', `the address pool ${pool} has no free address`, {
    hint: 'give a larger pool with --pool, or an address with --address',
  });
}

/** Refuse addresses that another member already advertises. */
export async function checkAddressesFree(
  client: KubeRestClient,
  namespace: string,
  clusterId: string,
  addresses: string[],
) {
  const used = await addressesInUse(client, namespace, clusterId);
  for (const address of addresses) {
    const ip = parseIpv4(address);
    const clash = used.find((u) => overlaps(u, hostCidr(ip)));
    if (clash) {
      throw new MoorError(
        'broker-conflict',
        `address ${address} is already used by another member of the clusterset`,
        {
          hint: 'choose another --address, or let moor allocate one from --pool',
        },
      );
    }
  }
}

/**
 * Refuse a clusterset address that this host's own traffic needs: the broker API server, its
 * default gateway or a nameserver. Every member routes the clusterset address into its tunnel
 * to this host (and rejects such an Endpoint: overlaps-protected), so nothing would work.
 */
export function refuseProtectedAddresses(addresses: readonly string[], needed: readonly ProtectedAddress[]) {
  for (const address of addresses) {
    const hit = needed.find((p) => p.address === address);
    if (hit) {
      throw new MoorError('invalid-argument', `--address ${address} is ${hit.why}`, {
        hint: 'members route the clusterset address through their tunnel to this host; choose an address nothing else uses, or let moor allocate one from --pool',
      });
    }
  }
}
