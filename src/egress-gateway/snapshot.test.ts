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
});
