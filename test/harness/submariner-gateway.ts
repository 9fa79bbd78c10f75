// A stand-in for a real Submariner gateway with the WireGuard cable driver, written from the
// spec (§2.6, §3.1) and independent of moor's code, so it serves as the compatibility oracle:
// it publishes its cluster's Cluster and Endpoint like the datastore syncer, and programs one
// wireguard-go peer per remote Endpoint exactly as the driver does (PSK = SHA-256 of the broker
// PSK string, endpoint = public_ip when NAT else private_ip, AllowedIPs = subnets, keepalive 10).
import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CustomObjectsApi, type KubeConfig } from '@kubernetes/client-node';
import type { TestRun } from './run.ts';
import type { Host } from './topology.ts';
import { type HandWgInterface, startWireGuardGo } from './wireguard.ts';

export interface SubmarinerGatewayOptions {
  clusterId: string;
  host: Host;
  privateIp: string;
  /** Pod and service CIDRs of the cluster. */
  clusterCidr: string;
  serviceCidr: string;
  /** The gateway's address inside the pod CIDR (its CNI interface), also the health-check IP. */
  cniAddress: string;
  kubeConfig: KubeConfig;
  namespace: string;
  psk: string;
  port?: number;
}

type EndpointSpec = {
  cluster_id: string;
  cable_name: string;
  subnets: string[];
  private_ip: string;
  public_ip: string;
  nat_enabled: boolean;
  backend: string;
  backend_config?: Record<string, string>;
};

export class SubmarinerGateway {
  readonly options: SubmarinerGatewayOptions;
  wg!: HandWgInterface;
  private readonly custom: CustomObjectsApi;

  constructor(options: SubmarinerGatewayOptions) {
    this.options = options;
    this.custom = options.kubeConfig.makeApiClient(CustomObjectsApi);
  }

  get cableName(): string {
    return `submariner-cable-${this.options.clusterId}-${this.options.privateIp.replaceAll('.', '-')}`;
  }

  /** Start wireguard-go with a fresh key (as every gateway start does) and publish Cluster + Endpoint. */
  async start(run: TestRun): Promise<void> {
    const o = this.options;
    const port = o.port ?? 4500;
    // Like the real driver: no address on the WireGuard link; the CNI address lives elsewhere.
    this.wg = await startWireGuardGo(run, o.host, undefined, port);
    const group = { group: 'submariner.io', version: 'v1', namespace: o.namespace };
    const labels = { 'submariner-io/clusterID': o.clusterId };
    await this.custom
      .createNamespacedCustomObject({
        ...group,
        plural: 'clusters',
        body: {
          apiVersion: 'submariner.io/v1',
          kind: 'Cluster',
          metadata: { name: o.clusterId, labels },
          spec: {
            cluster_id: o.clusterId,
            color_codes: ['blue'],
            service_cidr: [o.serviceCidr],
            cluster_cidr: [o.clusterCidr],
            global_cidr: [],
          },
        },
      })
      .catch((err: { code?: number }) => {
        if (err.code !== 409) throw err;
      });
    await this.custom.createNamespacedCustomObject({
      ...group,
      plural: 'endpoints',
      body: {
        apiVersion: 'submariner.io/v1',
        kind: 'Endpoint',
        metadata: { name: `${o.clusterId}-${this.cableName}`, labels },
        spec: {
          cluster_id: o.clusterId,
          cable_name: this.cableName,
          healthCheckIP: o.cniAddress,
          hostname: `${o.clusterId}-gw`,
          subnets: [o.serviceCidr, o.clusterCidr],
          private_ip: o.privateIp,
          public_ip: '',
          nat_enabled: false,
          backend: 'wireguard',
          backend_config: {
            publicKey: this.wg.keys.publicKey,
            'udp-port': String(port),
            'natt-discovery-port': '4490',
            'interface-name': 'submariner',
          },
        },
      },
    });
  }

  /** A gateway restart: the old wireguard-go goes away, a new one gets a fresh key, and the
   * Endpoint (same name: same cable) is updated with the new public key. */
  async restart(run: TestRun): Promise<void> {
    const o = this.options;
    await this.wg.process.stop();
    this.wg = await startWireGuardGo(run, o.host, undefined, o.port ?? 4500);
    const name = `${o.clusterId}-${this.cableName}`;
    const group = {
      group: 'submariner.io',
      version: 'v1',
      namespace: o.namespace,
      plural: 'endpoints',
      name,
    };
    const current = (await this.custom.getNamespacedCustomObject(group)) as { spec: EndpointSpec };
    current.spec.backend_config = { ...current.spec.backend_config, publicKey: this.wg.keys.publicKey };
    await this.custom.replaceNamespacedCustomObject({ ...group, body: current });
  }

  /** Program a peer for every other cluster's Endpoint, and routes to their subnets. */
  async syncPeers(run: TestRun): Promise<string[]> {
    const o = this.options;
    const list = (await this.custom.listNamespacedCustomObject({
      group: 'submariner.io',
      version: 'v1',
      namespace: o.namespace,
      plural: 'endpoints',
    })) as {
      items: Array<{ spec: EndpointSpec }>;
    };
    const pskFile = join(run.dir, `${this.wg.name}.psk`);
    writeFileSync(pskFile, `${createHash('sha256').update(o.psk, 'utf8').digest('base64')}\n`, {
      mode: 0o600,
    });
    const peers: string[] = [];
    for (const { spec } of list.items) {
      if (spec.cluster_id === o.clusterId || spec.backend !== 'wireguard') continue;
      const ip = spec.nat_enabled && spec.public_ip ? spec.public_ip : spec.private_ip;
      const port = spec.backend_config?.['udp-port'] ?? '4500';
      const key = spec.backend_config?.publicKey ?? '';
      await o.host.exec([
        'wg',
        'set',
        this.wg.name,
        'peer',
        key,
        'preshared-key',
        pskFile,
        'endpoint',
        `${ip}:${port}`,
        'allowed-ips',
        spec.subnets.join(','),
        'persistent-keepalive',
        '10',
      ]);
      for (const subnet of spec.subnets) {
        await o.host.exec(['ip', 'route', 'replace', subnet, 'dev', this.wg.name, 'src', o.cniAddress]);
      }
      peers.push(spec.cluster_id);
    }
    return peers;
  }
}
