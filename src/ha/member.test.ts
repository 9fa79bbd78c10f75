import { describe, expect, it } from 'vitest';
import { FakeClock } from '../reconcile/fake-clock.ts';
import { FakeHeartbeatBus, type FakeHeartbeatPort, type FakeLeasePort, FakeLeaseStore } from './fakes.ts';
import { HaMember } from './member.ts';
import { PRODUCTION_TIMINGS as T } from './timings.ts';

interface Node {
  name: string;
  member: HaMember;
  lease: FakeLeasePort;
  hb: FakeHeartbeatPort | undefined;
  /** The floating address: taken first thing in activate, dropped first thing in deactivate. */
  holds: boolean;
  /** A killed node's addresses vanish with its links; its callbacks no longer act. */
  dead: boolean;
  events: Array<{ at: number; what: string }>;
}

function group(names: string[], opts: { heartbeats?: boolean } = {}) {
  const clock = new FakeClock(1_000_000);
  const store = new FakeLeaseStore(clock);
  const bus = new FakeHeartbeatBus(clock);
  const nodes: Record<string, Node> = {};
  const overlaps: number[] = [];
  for (const name of names) {
    const lease = store.port(name);
    const hb = opts.heartbeats === false ? undefined : bus.port(name);
    const node: Node = { name, lease, hb, holds: false, dead: false, events: [], member: undefined as never };
    const ev = (what: string) => node.events.push({ at: clock.now(), what });
    node.member = new HaMember({
      identity: name,
      lease,
      heartbeats: hb,
      clock,
      timings: T,
      activate: async () => {
        if (node.dead) return;
        node.holds = true;
        ev('address added');
        if (Object.values(nodes).filter((n) => n.holds).length > 1) overlaps.push(clock.now());
      },
      deactivate: async () => {
        node.holds = false;
        ev('address removed');
      },
      log: (l) => ev(l),
    });
    nodes[name] = node;
  }
  const holders = () =>
    Object.values(nodes)
      .filter((n) => n.holds && !n.dead)
      .map((n) => n.name);
  /** Advance in small steps, checking the invariant at every step. */
  const run = async (ms: number, step = 5) => {
    for (let t = 0; t < ms; t += step) {
      await clock.advance(step);
      if (holders().length > 1) overlaps.push(clock.now());
    }
  };
  const kill = (n: Node) => {
    n.dead = true;
    n.holds = false;
    n.lease.hang = true;
    if (n.hb) n.hb.mute = true;
    n.hb?.close();
  };
  return { clock, store, bus, nodes, holders, run, kill, overlaps };
}

/** a first (it becomes the leader), then b. */
async function startInOrder(g: { run: (ms: number) => Promise<void> }, a: Node, b: Node): Promise<void> {
  a.member.start();
  await g.run(100);
  b.member.start();
}

const firstAt = (n: Node, what: string | RegExp) =>
  n.events.find((e) => (typeof what === 'string' ? e.what === what : what.test(e.what)))?.at;

describe('HaMember', () => {
  it('takes a free lease, activates, and renews every renewInterval', async () => {
    const g = group(['a']);
    const a = g.nodes.a!;
    a.member.start();
    await g.run(50);
    expect(a.member.active).toBe(true);
    expect(a.holds).toBe(true);
    expect(g.store.record?.holder).toBe('a');
    const writes = g.store.writes;
    await g.run(1_000);
    expect(g.store.writes - writes).toBeGreaterThanOrEqual(4);
    expect(g.store.writes - writes).toBeLessThanOrEqual(6);
    expect(a.member.status().validForMs).toBeGreaterThan(T.renewDeadlineMs - T.renewIntervalMs - 20);
  });

  it('steps down on a timer when a renewal hangs, dropping the address before the deadline', async () => {
    const g = group(['a']);
    const a = g.nodes.a!;
    a.member.start();
    await g.run(50);
    expect(a.member.active).toBe(true);
    // The last successful renewal was SENT at this moment (at most): the deadline counts from it.
    const lastOkSend = a.lease.requests.filter((r) => r.kind === 'write').at(-1)?.at ?? 0;
    a.lease.hang = true;
    await g.run(2_000);
    expect(a.member.active).toBe(false);
    const removedAt = firstAt(a, 'address removed') ?? Number.POSITIVE_INFINITY;
    const lastSendBeforeHang = Math.max(
      lastOkSend,
      ...a.lease.requests
        .filter((r) => r.kind === 'write' && r.at < removedAt && !r.signal.aborted)
        .map((r) => r.at),
    );
    expect(removedAt).toBeLessThanOrEqual(lastSendBeforeHang + T.renewDeadlineMs - T.releaseBudgetMs);
    expect(firstAt(a, /stepped down: could not renew/)).toBe(removedAt);
    // Every hanging request was aborted within the request timeout.
    for (const r of a.lease.requests.filter((x) => x.at >= lastOkSend + 1))
      expect(r.signal.aborted).toBe(true);
    expect(a.lease.aborted).toBeGreaterThan(0);
  });

  it('bounds every request by the request timeout, shorter than the renew deadline', async () => {
    const g = group(['a']);
    const a = g.nodes.a!;
    a.lease.hang = true;
    a.member.start();
    await g.run(T.requestTimeoutMs - 10, 1);
    expect(a.lease.requests[0]?.signal.aborted).toBe(false);
    await g.run(20, 1);
    expect(a.lease.requests[0]?.signal.aborted).toBe(true);
    expect(T.requestTimeoutMs).toBeLessThan(T.renewDeadlineMs);
  });

  it('a partitioned leader fences itself; the standby takes over only after the old deadline, never overlapping', async () => {
    const g = group(['a', 'b']);
    const { a, b } = g.nodes as { a: Node; b: Node };
    await startInOrder(g, a, b);
    await g.run(3_000);
    expect(g.holders()).toEqual(['a']);
    // a loses the API server and b at once; it lives on.
    const cutAt = g.clock.now();
    a.lease.hang = true;
    g.bus.cut('a', 'b');
    await g.run(3_000);
    expect(g.overlaps).toEqual([]);
    expect(g.holders()).toEqual(['b']);
    const removed = firstAt(a, 'address removed') ?? 0;
    const added = b.events.filter((e) => e.what === 'address added').at(-1)?.at ?? 0;
    expect(removed).toBeLessThan(added);
    // Fast: well under the lease duration; the gap is the fencing rule, not the Lease's 15 s.
    expect(added - cutAt).toBeLessThan(T.renewDeadlineMs + T.heartbeatTimeoutMs + 200);
  });

  it('hard kill: the standby takes over about a renew deadline after the last heartbeat', async () => {
    const g = group(['a', 'b']);
    const { a, b } = g.nodes as { a: Node; b: Node };
    await startInOrder(g, a, b);
    await g.run(2_000);
    const killedAt = g.clock.now();
    g.kill(a);
    await g.run(2_000);
    expect(g.holders()).toEqual(['b']);
    const added = firstAt(b, 'address added') ?? 0;
    expect(added - killedAt).toBeLessThanOrEqual(T.renewDeadlineMs + 2 * T.clockMarginMs + 20);
    expect(added - killedAt).toBeGreaterThanOrEqual(T.heartbeatTimeoutMs);
    expect(g.store.record?.holder).toBe('b');
    // One read when the heartbeats stopped, then, once the lapse is proven, the conditional
    // write on exactly that record, without reading it again.
    const after = b.lease.requests.filter((r) => r.at > killedAt).map((r) => r.kind);
    expect(after.slice(0, 2)).toEqual(['read', 'write']);
  });

  it('lost heartbeats alone never move the role while the leader still renews', async () => {
    const g = group(['a', 'b']);
    const { a, b } = g.nodes as { a: Node; b: Node };
    await startInOrder(g, a, b);
    await g.run(500);
    g.bus.cut('a', 'b');
    await g.run(40_000, 20);
    expect(g.holders()).toEqual(['a']);
    expect(b.member.active).toBe(false);
    expect(g.overlaps).toEqual([]);
  });

  it('hysteresis: a recovered leader does not take the role back', async () => {
    const g = group(['a', 'b']);
    const { a, b } = g.nodes as { a: Node; b: Node };
    await startInOrder(g, a, b);
    await g.run(1_000);
    a.lease.hang = true;
    g.bus.cut('a', 'b');
    await g.run(2_000);
    expect(g.holders()).toEqual(['b']);
    a.lease.hang = false;
    g.bus.cut('a', 'b', false);
    await g.run(30_000, 20);
    expect(g.holders()).toEqual(['b']);
    expect(a.member.status().transitions).toBe(1);
    expect(b.member.status().transitions).toBe(1);
  });

  it('graceful stop: address dropped first, lease released, the standby takes over at once', async () => {
    const g = group(['a', 'b']);
    const { a, b } = g.nodes as { a: Node; b: Node };
    await startInOrder(g, a, b);
    await g.run(1_000);
    const stopAt = g.clock.now();
    const stopping = a.member.stop();
    await g.run(100, 1);
    await stopping;
    expect(a.events.findIndex((e) => e.what === 'address removed')).toBeLessThan(
      a.events.findIndex((e) => e.what === 'released the lease'),
    );
    expect(g.holders()).toEqual(['b']);
    expect((firstAt(b, 'address added') ?? 0) - stopAt).toBeLessThan(50);
  });

  it('without heartbeats a standby takes over once the renew deadline written in the record has passed', async () => {
    const g = group(['a', 'b'], { heartbeats: false });
    const { a, b } = g.nodes as { a: Node; b: Node };
    await startInOrder(g, a, b);
    await g.run(1_000);
    const killedAt = g.clock.now();
    g.kill(a);
    await g.run(T.renewDeadlineMs, 10);
    expect(b.member.active).toBe(false);
    await g.run(2 * T.pollIntervalMs + T.renewDeadlineMs, 10);
    expect(b.member.active).toBe(true);
    const added = (firstAt(b, 'address added') ?? 0) - killedAt;
    expect(added).toBeGreaterThanOrEqual(T.renewDeadlineMs);
    expect(added).toBeLessThan(T.leaseDurationMs);
    expect(g.overlaps).toEqual([]);
  });

  it('a record written by a foreign elector (no renew deadline in it) is waited out for its lease duration', async () => {
    const g = group(['b'], { heartbeats: false });
    const b = g.nodes.b!;
    g.store.record = {
      holder: 'client-go',
      version: '77',
      renewTime: 't',
      leaseDurationMs: 15_000,
      transitions: 0,
    };
    b.member.start();
    await g.run(14_000, 50);
    expect(b.member.active).toBe(false);
    await g.run(2 * T.pollIntervalMs + 500, 50);
    expect(b.member.active).toBe(true);
  });

  it('a leader deposed by a conflicting write steps down at once', async () => {
    const g = group(['a']);
    const a = g.nodes.a!;
    a.member.start();
    await g.run(50);
    const rec = g.store.record;
    g.store.commit(
      { holder: 'intruder', leaseDurationMs: 15_000, renewTime: 'x', acquire: true, renewDeadlineMs: 600 },
      rec,
    );
    await g.run(T.renewIntervalMs + 20);
    expect(a.member.active).toBe(false);
    expect(firstAt(a, /the lease now belongs to intruder/)).toBeDefined();
  });

  it('an activation that fails gives the role up and keeps off for a lease duration', async () => {
    const clock = new FakeClock(0);
    const store = new FakeLeaseStore(clock);
    const log: string[] = [];
    let deactivated = 0;
    const m = new HaMember({
      identity: 'a',
      lease: store.port('a'),
      heartbeats: undefined,
      clock,
      timings: T,
      activate: async () => {
        throw new Error('ip addr add: no such device');
      },
      deactivate: async () => {
        deactivated += 1;
      },
      log: (l) => log.push(l),
    });
    m.start();
    await clock.advance(100);
    expect(m.active).toBe(false);
    expect(deactivated).toBe(1);
    expect(store.record?.holder).toBe('');
    await clock.advance(T.leaseDurationMs - 1_000);
    expect(m.status().transitions).toBe(1);
    expect(log.join('\n')).toMatch(/activation failed, stepping down: ip addr add: no such device/);
  });
});

describe('HaMember under random faults', () => {
  it('never lets two members hold the address (fast-check: partitions, hangs, latency, kills)', async () => {
    const fc = await import('fast-check');
    const action = fc.oneof(
      fc.record({
        kind: fc.constant('api' as const),
        who: fc.constantFrom('a', 'b', 'c'),
        down: fc.boolean(),
      }),
      fc.record({
        kind: fc.constant('cut' as const),
        x: fc.constantFrom('a', 'b', 'c'),
        y: fc.constantFrom('a', 'b', 'c'),
        down: fc.boolean(),
      }),
      fc.record({
        kind: fc.constant('latency' as const),
        who: fc.constantFrom('a', 'b', 'c'),
        ms: fc.integer({ min: 0, max: 500 }),
      }),
      fc.record({ kind: fc.constant('kill' as const), who: fc.constantFrom('a', 'b', 'c') }),
    );
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.tuple(action, fc.integer({ min: 10, max: 900 })), { minLength: 3, maxLength: 10 }),
        async (script) => {
          const g = group(['a', 'b', 'c']);
          for (const n of Object.values(g.nodes)) n.member.start();
          await g.run(300, 10);
          for (const [act, wait] of script) {
            if (act.kind === 'api') g.nodes[act.who]!.lease.hang = act.down;
            if (act.kind === 'cut' && act.x !== act.y) g.bus.cut(act.x, act.y, act.down);
            if (act.kind === 'latency') g.nodes[act.who]!.lease.latencyMs = act.ms;
            if (act.kind === 'kill') g.kill(g.nodes[act.who]!);
            await g.run(wait, 5);
          }
          await g.run(2_000, 10);
          expect(g.overlaps).toEqual([]);
        },
      ),
      { numRuns: 25 },
    );
  }, 120_000);
});
