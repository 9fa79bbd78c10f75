import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { diffPeers, type PeerConfig } from './peerDiff.ts';

const key = (n: number) => Buffer.alloc(32, n).toString('base64');
const POOL = [
  '10.0.0.0/16',
  '10.0.1.0/24',
  '10.1.0.0/16',
  '10.2.0.0/16',
  '100.70.0.0/24',
  '192.168.1.0/24',
  '0.0.0.0/0',
];

describe('diffPeers', () => {
  const peer = (n: number, allowedIPs: string[], host = '172.16.0.1', port = 4500): PeerConfig => ({
    publicKey: key(n),
    endpoint: { host, port },
    allowedIPs,
  });

  it('sorts peers into add, update, remove and unchanged', () => {
    const current = [peer(1, ['10.1.0.0/16']), peer(2, ['10.2.0.0/16']), peer(3, ['10.3.0.0/16'])];
    const desired = [
      peer(4, ['10.4.0.0/16']),
      peer(2, ['10.2.0.0/16', '10.20.0.0/16']),
      peer(1, ['10.1.0.0/16']),
    ];
    expect(diffPeers(current, desired)).toEqual({
      add: [desired[0]],
      update: [{ current: current[1], desired: desired[1] }],
      remove: [current[2]],
      unchanged: [desired[2]],
    });
  });

  it('ignores the order and spelling of allowed IPs', () => {
    const current = [peer(1, ['10.2.0.0/16', '10.1.0.0/16', '100.70.0.10/32'])];
    const desired = [peer(1, ['10.1.0.0/16', '100.70.0.10', '10.2.0.0/16', '10.1.0.0/16'])];
    expect(diffPeers(current, desired).unchanged).toEqual(desired);
  });

  it('updates a peer whose endpoint moved, and replaces a peer whose key changed', () => {
    expect(
      diffPeers([peer(1, ['10.1.0.0/16'])], [peer(1, ['10.1.0.0/16'], '172.16.0.2')]).update,
    ).toHaveLength(1);
    expect(
      diffPeers([peer(1, ['10.1.0.0/16'])], [peer(1, ['10.1.0.0/16'], '172.16.0.1', 4501)]).update,
    ).toHaveLength(1);
    expect(
      diffPeers([{ publicKey: key(1), allowedIPs: ['10.1.0.0/16'] }], [peer(1, ['10.1.0.0/16'])]).update,
    ).toHaveLength(1);
    const rotated = diffPeers([peer(1, ['10.1.0.0/16'])], [peer(2, ['10.1.0.0/16'])]);
    expect(rotated.add.map((p) => p.publicKey)).toEqual([key(2)]);
    expect(rotated.remove.map((p) => p.publicKey)).toEqual([key(1)]);
  });

  it('turns current into desired, and leaves identical input untouched', () => {
    const arbPeers = fc
      .uniqueArray(
        fc.record({
          n: fc.integer({ min: 1, max: 8 }),
          ips: fc.subarray(POOL),
          host: fc.constantFrom('172.16.0.1', '172.16.0.2'),
        }),
        { selector: (p) => p.n },
      )
      .map((list) => list.map((p) => peer(p.n, p.ips, p.host)));
    fc.assert(
      fc.property(arbPeers, arbPeers, (current, desired) => {
        const diff = diffPeers(current, desired);
        const result = new Map(current.map((p) => [p.publicKey, p]));
        for (const p of diff.remove) result.delete(p.publicKey);
        for (const p of [...diff.add, ...diff.update.map((u) => u.desired)]) result.set(p.publicKey, p);
        const canonical = (peers: Iterable<PeerConfig>) => [...peers].map((p) => p.publicKey).sort();
        expect(canonical(result.values())).toEqual(canonical(desired));
        expect(diff.add.length + diff.update.length + diff.unchanged.length).toBe(desired.length);
        const same = diffPeers(desired, desired);
        expect(same.unchanged).toHaveLength(desired.length);
        expect(same.add.length + same.update.length + same.remove.length).toBe(0);
      }),
    );
  });
});
