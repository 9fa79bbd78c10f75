// Shared by the two fuzz tests (in-process and through real sockets): a seeded PRNG, so a
// failure names the seed that reproduces it, and a realistic record index to answer from.
import { buildRecordIndex, type RecordIndex } from './records.ts';
import { endpointSlice, serviceImport, serviceIpSlice, tcp, udp } from './testing.ts';

/** xorshift32: tiny, fast and deterministic. */
export function prng(seed: number) {
  let state = seed >>> 0 || 1;
  const next = () => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return (state >>> 0) / 0x100000000;
  };
  return {
    int: (n: number) => Math.floor(next() * n),
    pick: <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)] as T,
    chance: (p: number) => next() < p,
  };
}
export type Rng = ReturnType<typeof prng>;

/** ClusterSetIP services in three clusters, a clusterset VIP, and a 300-pod headless service. */
export function fuzzIndex(): RecordIndex {
  return buildRecordIndex({
    localClusterId: 'local',
    connectedClusters: ['east', 'west'],
    serviceImports: [
      serviceImport({ service: 'web', namespace: 'shop', ports: [tcp('http', 80), udp('dns', 53)] }),
      serviceImport({ service: 'api', namespace: 'shop', ports: [tcp('http', 80)] }),
      serviceImport({ service: 'vip', namespace: 'shop', ips: ['243.0.0.1'], ports: [tcp('grpc', 9090)] }),
      serviceImport({ service: 'db', namespace: 'shop', type: 'Headless' }),
    ],
    endpointSlices: [
      serviceIpSlice('web', 'shop', 'local', '10.0.0.10', [tcp('http', 80), udp('dns', 53)]),
      serviceIpSlice('api', 'shop', 'east', '10.1.0.20', [tcp('http', 80)]),
      serviceIpSlice('api', 'shop', 'west', '10.2.0.20', [tcp('http', 80)]),
      serviceIpSlice('vip', 'shop', 'east', '10.1.0.30', [tcp('grpc', 9090)]),
      endpointSlice({
        service: 'db',
        namespace: 'shop',
        cluster: 'east',
        headless: true,
        ports: [tcp('pg', 5432)],
        endpoints: Array.from({ length: 300 }, (_, i) => ({
          addresses: [`10.1.${i >> 8}.${i & 255}`],
          hostname: `db-${i}`,
        })),
      }),
    ],
  }).index;
}
