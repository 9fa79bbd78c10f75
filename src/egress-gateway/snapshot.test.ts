import { describe, expect, it } from 'vitest';
import { snapshot } from '../plan/egress-test-fixture.ts';
import { gatewayGroupInputs, servedGroups } from './snapshot.ts';

describe('egress gateway snapshot', () => {
  it('serves the groups whose nodeSelector selects this node, with every pod of their policies', () => {
    expect(servedGroups('gw1', snapshot).map((g) => g.name)).toEqual(['east']);
    expect(servedGroups('w1', snapshot)).toEqual([]);
    const [group] = gatewayGroupInputs(servedGroups('gw1', snapshot), new Set(['east']), snapshot);
    expect(group?.active).toBe(true);
    expect(group?.egressIPs.sort()).toEqual(['10.99.10.33', '10.99.10.34']);
    expect(group?.assignments.map((a) => [a.name, a.egressIP])).toEqual([
      ['a', '10.99.10.33'],
      ['c', '10.99.10.33'],
    ]);
  });

  it('reads spec.ingress, pod readiness and node InternalIPs into the inbound entries', () => {
    const internal = (name: string, address: string, labels = {}) => ({
      metadata: { name, labels },
      status: { addresses: [{ type: 'InternalIP', address }] },
    });
    const withIngress = {
      ...snapshot,
      policies: snapshot.policies.map((p) =>
        p.metadata?.name === 'pay'
          ? { ...p, spec: { ...(p as { spec: object }).spec, ingress: { ports: [{ port: 443 }] } } }
          : p,
      ),
      // c is NotReady: never a target.
      pods: snapshot.pods.map((p) =>
        p.metadata?.name === 'c'
          ? {
              ...p,
              status: {
                podIP: '10.1.4.5',
                phase: 'Running',
                conditions: [{ type: 'Ready', status: 'False' }],
              },
            }
          : p,
      ),
      nodes: [
        internal('w1', '10.99.10.3'),
        internal('w2', '10.99.10.4'),
        internal('gw1', '10.99.10.2', { role: 'gw' }),
      ],
    };
    const [group] = gatewayGroupInputs(servedGroups('gw1', withIngress), new Set(), withIngress);
    expect(group?.ingress).toEqual([
      {
        policy: 'pay',
        gateway: 'east',
        egressIP: '10.99.10.33',
        protocol: 'TCP',
        port: 443,
        targetPort: 443,
        targets: [{ pod: 'shop/a', podIP: '10.1.3.5', node: 'w1', nodeIP: '10.99.10.3' }],
      },
    ]);
  });
});
