import { describe, expect, it } from 'vitest';
import type { Json } from '../broker/lighthouseRead.ts';
import { clustersetServices } from './services.ts';

const si = (svc: string, type: string, clusters: string[], ports: Json[] = []): Json => ({
  apiVersion: 'multicluster.x-k8s.io/v1alpha1',
  kind: 'ServiceImport',
  metadata: {
    name: `${svc}-vms`,
    annotations: {
      'multicluster.kubernetes.io/service-name': svc,
      'lighthouse.submariner.io/sourceNamespace': 'vms',
    },
  },
  spec: { type, ports },
  status: { clusters: clusters.map((cluster) => ({ cluster })) },
});

const slice = (svc: string, cluster: string, endpoints: Json[], headless = false): Json => ({
  metadata: {
    name: `${svc}-${cluster}-x`,
    labels: {
      'endpointslice.kubernetes.io/managed-by': 'lighthouse-agent.submariner.io',
      'multicluster.kubernetes.io/service-name': svc,
      'lighthouse.submariner.io/sourceNamespace': 'vms',
      'multicluster.kubernetes.io/source-cluster': cluster,
      'lighthouse.submariner.io/is-headless': String(headless),
    },
  },
  endpoints,
});

describe('clustersetServices', () => {
  it('lists every exporting cluster with address, readiness and reachability', () => {
    const services = clustersetServices(
      [si('db', 'ClusterSetIP', ['vm1', 'east', 'west'], [{ protocol: 'TCP', port: 5432 }])],
      [
        slice('db', 'vm1', [{ addresses: ['100.70.0.10'], conditions: { ready: true } }]),
        slice('db', 'east', [{ addresses: ['10.110.0.9', '10.110.0.8'], conditions: {} }]),
        slice('db', 'west', [{ addresses: ['10.120.0.9'], conditions: { ready: false } }]),
      ],
      'vm1',
      [
        { clusterId: 'east', status: 'connected' },
        { clusterId: 'west', status: 'error' },
      ],
    );
    expect(services).toEqual([
      {
        name: 'db',
        namespace: 'vms',
        type: 'ClusterSetIP',
        // An unnamed port, shown as Lighthouse and `moor export` write it.
        ports: [{ protocol: 'TCP', port: 5432 }],
        clusters: [
          { clusterId: 'vm1', addresses: ['100.70.0.10'], ready: true, reachable: true, self: true },
          // CoreDNS: ClusterSetIP uses the first address; a missing ready condition is healthy.
          { clusterId: 'east', addresses: ['10.110.0.9'], ready: true, reachable: true, self: false },
          { clusterId: 'west', addresses: ['10.120.0.9'], ready: false, reachable: false, self: false },
        ],
      },
    ]);
  });

  it('headless: every address; unknown reachability without agent status; legacy imports skipped', () => {
    const legacy: Json = {
      metadata: { name: 'old-vms-east', annotations: {} },
      spec: { type: 'ClusterSetIP' },
    };
    const services = clustersetServices(
      [legacy, si('cache', 'Headless', ['east'])],
      [
        slice(
          'cache',
          'east',
          [
            { addresses: ['10.1.0.1'], conditions: { ready: false } },
            { addresses: ['10.1.0.2'], conditions: { ready: true } },
          ],
          true,
        ),
      ],
      'vm1',
      undefined,
    );
    expect(services).toEqual([
      {
        name: 'cache',
        namespace: 'vms',
        type: 'Headless',
        ports: [],
        clusters: [
          {
            clusterId: 'east',
            addresses: ['10.1.0.1', '10.1.0.2'],
            ready: true,
            reachable: undefined,
            self: false,
          },
        ],
      },
    ]);
  });

  it('shows a listed cluster without a slice as not known to be ready', () => {
    const [service] = clustersetServices([si('db', 'ClusterSetIP', ['east'])], [], 'vm1', []);
    expect(service?.clusters).toEqual([
      { clusterId: 'east', addresses: [], ready: undefined, reachable: false, self: false },
    ]);
  });
});
