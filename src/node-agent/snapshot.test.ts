import { describe, expect, it } from 'vitest';
import { gateway, snapshot } from '../plan/egress-test-fixture.ts';
import { nodeEgressInput } from './snapshot.ts';

describe('node agent snapshot', () => {
  it('takes only local pods, the Node pod CIDRs and the gateway readiness from status', () => {
    const input = nodeEgressInput(
      { nodeName: 'w1', underlayDevice: 'lan0', clusterCidrs: ['10.1.0.0/16'], podCidrs: [] },
      1500,
      snapshot,
    );
    expect(input.localPodCidrs).toEqual(['10.1.3.0/24']);
    expect(input.knownPodIPs).toEqual(['10.1.3.5', '10.1.3.6']);
    expect(input.assignments).toEqual([
      { namespace: 'shop', name: 'a', node: 'w1', podIP: '10.1.3.5', policy: 'pay', egressIP: '10.99.10.33' },
    ]);
    expect(input.groups).toEqual([
      { name: 'east', floatingIP: '10.99.10.30', vni: 4100, vxlanPort: 4789, usable: true },
    ]);
    const notReady = nodeEgressInput(
      { nodeName: 'w1', underlayDevice: 'lan0', clusterCidrs: [], podCidrs: ['10.1.3.0/25'] },
      1500,
      { ...snapshot, gateways: [gateway(false)] },
    );
    expect(notReady.groups[0]?.usable).toBe(false);
    expect(notReady.localPodCidrs).toEqual(['10.1.3.0/25']);
  });
});
