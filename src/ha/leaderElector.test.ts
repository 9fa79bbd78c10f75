import { describe, expect, it } from 'vitest';
import type { KubeRestClient } from '../k8s/rest.ts';
import { FakeClock } from '../reconcile/fake-clock.ts';
import { FakeLeaseStore } from './fakes.ts';
import { LeaderElector } from './leaderElector.ts';

describe('LeaderElector (the old shape on HaMember)', () => {
  it('leads, fences itself when renewals hang past the renew deadline, and hands over', async () => {
    const clock = new FakeClock(0);
    const store = new FakeLeaseStore(clock);
    const events: string[] = [];
    const make = (id: string) => {
      const port = store.port(id);
      const e = new LeaderElector({
        client: undefined as unknown as KubeRestClient,
        namespace: 'moor-egress',
        name: 'moor-egress-controller',
        identity: id,
        leaseDurationS: 15,
        renewDeadlineS: 10,
        retryPeriodS: 2,
        onStartedLeading: () => void events.push(`${id} leading@${clock.now()}`),
        onStoppedLeading: () => void events.push(`${id} stopped@${clock.now()}`),
        log: () => undefined,
        lease: port,
        clock,
      });
      return { e, port };
    };
    const a = make('a');
    a.e.start();
    await clock.advance(100);
    const b = make('b');
    b.e.start();
    await clock.advance(5_000);
    expect(a.e.isLeader).toBe(true);
    expect(b.e.isLeader).toBe(false);
    a.port.hang = true;
    await clock.advance(30_000);
    expect(a.e.isLeader).toBe(false);
    expect(b.e.isLeader).toBe(true);
    const stoppedA = Number(events.find((x) => x.startsWith('a stopped'))?.split('@')[1]);
    const leadingB = Number(events.find((x) => x.startsWith('b leading'))?.split('@')[1]);
    // b takes over only after a's deadline (the renew deadline written in a's last record).
    expect(leadingB).toBeGreaterThan(stoppedA);
    const stopping = b.e.stop();
    await clock.advance(100);
    await stopping;
    expect(store.record?.holder).toBe('');
    expect(events.at(-1)).toMatch(/^b stopped/);
  });
});
