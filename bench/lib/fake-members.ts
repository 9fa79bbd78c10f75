// Many clusterset members on the broker at once: a Cluster and an Endpoint each, in Submariner's
// format, with a distinct /24 in 10.128.0.0/9, a valid WireGuard key (x25519 via node:crypto) and
// an endpoint address in a range that the test topology routes to a blackhole. Nothing answers.
import { generateKeyPairSync } from 'node:crypto';
import { CustomObjectsApi, type KubeConfig } from '@kubernetes/client-node';

export const MEMBER_LABEL = 'moor-bench/member';

export function wireguardPublicKey(): string {
  const { publicKey } = generateKeyPairSync('x25519');
  return publicKey.export({ type: 'spki', format: 'der' }).subarray(-32).toString('base64');
}

export interface FakeMember {
  clusterId: string;
  subnet: string;
  privateIp: string;
  publicKey: string;
}

export function fakeMembers(count: number, endpointRange: { a: number; b: number }): FakeMember[] {
  return Array.from({ length: count }, (_, i) => {
    const n = i + 1;
    return {
      clusterId: `bench-${String(n).padStart(4, '0')}`,
      subnet: `10.${128 + (i >> 8)}.${i & 255}.0/24`,
      privateIp: `${endpointRange.a}.${endpointRange.b}.${n >> 8}.${n & 255}`,
      publicKey: wireguardPublicKey(),
    };
  });
}

function objectsOf(m: FakeMember): { cluster: object; endpoint: object } {
  const labels = { 'submariner-io/clusterID': m.clusterId, [MEMBER_LABEL]: 'true' };
  const cable = `submariner-cable-${m.clusterId}-${m.privateIp.replaceAll('.', '-')}`;
  return {
    cluster: {
      apiVersion: 'submariner.io/v1',
      kind: 'Cluster',
      metadata: { name: m.clusterId, labels },
      spec: {
        cluster_id: m.clusterId,
        color_codes: ['blue'],
        service_cidr: [],
        cluster_cidr: [m.subnet],
        global_cidr: [],
      },
    },
    endpoint: {
      apiVersion: 'submariner.io/v1',
      kind: 'Endpoint',
      metadata: { name: `${m.clusterId}-${cable}`, labels },
      spec: {
        cluster_id: m.clusterId,
        cable_name: cable,
        healthCheckIP: m.subnet.replace(/0\/24$/, '1'),
        hostname: `${m.clusterId}-gw`,
        subnets: [m.subnet],
        private_ip: m.privateIp,
        public_ip: '',
        nat_enabled: false,
        backend: 'wireguard',
        backend_config: { publicKey: m.publicKey, 'udp-port': '4500', 'natt-discovery-port': '4490' },
      },
    },
  };
}

/** Create every member's Cluster, then its Endpoint, with `concurrency` requests in flight. */
export async function createMembers(
  kc: KubeConfig,
  namespace: string,
  members: FakeMember[],
  concurrency = 8,
): Promise<void> {
  const custom = kc.makeApiClient(CustomObjectsApi);
  let next = 0;
  const worker = async () => {
    while (next < members.length) {
      const m = members[next++] as FakeMember;
      const { cluster, endpoint } = objectsOf(m);
      const base = { group: 'submariner.io', version: 'v1', namespace };
      await custom.createNamespacedCustomObject({ ...base, plural: 'clusters', body: cluster });
      await custom.createNamespacedCustomObject({ ...base, plural: 'endpoints', body: endpoint });
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
}

export async function deleteMembers(kc: KubeConfig, namespace: string): Promise<void> {
  const custom = kc.makeApiClient(CustomObjectsApi);
  for (const plural of ['endpoints', 'clusters']) {
    await custom.deleteCollectionNamespacedCustomObject({
      group: 'submariner.io',
      version: 'v1',
      namespace,
      plural,
      labelSelector: MEMBER_LABEL,
    });
  }
}
