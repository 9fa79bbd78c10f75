// Synthetic clusterset DNS data for the DNS benchmark, as Lighthouse objects for moor and as the
// equivalent hosts file for dnsmasq, plus a realistic query mix: A queries for service names,
// some with a cluster prefix, some for names that do not exist (NXDOMAIN).
import { serviceImport, serviceIpSlice, tcp } from '../../src/dns/testing.ts';

export const CLUSTERS = ['east', 'west', 'south'] as const;
export const NAMESPACE = 'bench';
const ZONE = 'svc.clusterset.local';

export interface DnsBenchService {
  name: string;
  cluster: string;
  ip: string;
}

export function dnsBenchServices(count: number): DnsBenchService[] {
  return Array.from({ length: count }, (_, i) => ({
    name: `svc${i}`,
    cluster: CLUSTERS[i % CLUSTERS.length] as string,
    ip: `10.${100 + (i % CLUSTERS.length)}.${(i >> 8) & 255}.${i & 255}`,
  }));
}

/** ServiceImports and EndpointSlices as the broker holds them: each service exported by one cluster. */
export function lighthouseObjects(services: DnsBenchService[]): {
  serviceImports: unknown[];
  endpointSlices: unknown[];
} {
  return {
    serviceImports: services.map((s) =>
      serviceImport({
        service: s.name,
        namespace: NAMESPACE,
        ports: [tcp('http', 80)],
        clusters: [s.cluster],
      }),
    ),
    endpointSlices: services.map((s) =>
      serviceIpSlice(s.name, NAMESPACE, s.cluster, s.ip, [tcp('http', 80)]),
    ),
  };
}

export const serviceName = (s: DnsBenchService) => `${s.name}.${NAMESPACE}.${ZONE}`;
export const clusterName = (s: DnsBenchService) => `${s.cluster}.${s.name}.${NAMESPACE}.${ZONE}`;

/** The same A records in /etc/hosts form, for dnsmasq's --addn-hosts. */
export function hostsFile(services: DnsBenchService[]): string {
  return services.map((s) => `${s.ip} ${serviceName(s)} ${clusterName(s)}\n`).join('');
}

export interface QueryLine {
  name: string;
  kind: 'service' | 'cluster' | 'missing';
}

/** `count` queries: 70 % service names, 15 % cluster-prefixed, 15 % NXDOMAIN; deterministic. */
export function queryMix(services: DnsBenchService[], count: number): QueryLine[] {
  let seed = 12345;
  const next = () => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed;
  };
  return Array.from({ length: count }, () => {
    const roll = next() % 100;
    const s = services[next() % services.length] as DnsBenchService;
    if (roll < 70) return { name: serviceName(s), kind: 'service' };
    if (roll < 85) return { name: clusterName(s), kind: 'cluster' };
    return { name: `no-such-${next() % 100000}.${NAMESPACE}.${ZONE}`, kind: 'missing' };
  });
}

/** dnsperf's input format: one "name type" per line. */
export function dnsperfInput(queries: QueryLine[]): string {
  return queries.map((q) => `${q.name} A\n`).join('');
}
