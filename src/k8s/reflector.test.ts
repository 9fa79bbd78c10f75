import { getEventListeners } from 'node:events';
import { describe, expect, it } from 'vitest';
import { MoorError } from '../errors.ts';
import { FakeClock } from '../reconcile/fake-clock.ts';
import { Reflector, type ReflectorClient } from './reflector.ts';
import type { WatchEvent } from './rest.ts';

/** A broker that is down until `up` is set; then lists `items` and holds the watch open. */
function flakyBroker() {
  const state = {
    up: false,
    lists: 0,
    items: [{ metadata: { name: 'a', namespace: 'ns', resourceVersion: '5' } }] as unknown[],
    signals: new Set<AbortSignal>(),
    emit: undefined as ((e: WatchEvent) => void) | undefined,
  };
  const client: ReflectorClient = {
    get: (async () => {
      state.lists += 1;
      if (!state.up) throw new MoorError('broker-unreachable', 'connect ECONNREFUSED 127.0.0.1:6443');
      return { items: state.items, metadata: { resourceVersion: '10' } };
    }) as ReflectorClient['get'],
    watch: (_path, onEvent, signal) => {
      state.signals.add(signal);
      state.emit = onEvent;
      return new Promise<void>((resolve) =>
        signal.addEventListener('abort', () => resolve(), { once: true }),
      );
    },
  };
  return { state, client };
}

describe('Reflector', () => {
  it('backs off exponentially with jitter up to the cap, and a long outage holds no growing state', async () => {
    const clock = new FakeClock();
    const { state, client } = flakyBroker();
    const errors: string[] = [];
    const delays: number[] = [];
    const r = new Reflector({
      client,
      path: '/apis/x/v1/namespaces/ns/things',
      onChange: () => {},
      onError: (e) => errors.push(e.message),
      initialBackoffMs: 500,
      maxBackoffMs: 30_000,
      clock,
      random: () => 1,
    });
    r.start();
    for (let i = 0; i < 8; i++) {
      await clock.advance(0);
      delays.push(r.lastBackoffMs);
      await clock.advance(r.lastBackoffMs);
    }
    expect(delays).toEqual([500, 1000, 2000, 4000, 8000, 16000, 30000, 30000]);
    expect(r.synced).toBe(false);
    expect(r.list()).toEqual([]);
    // A day of outage at the cap: the same number of pending timers and abort listeners.
    const signal = (r as unknown as { abort: AbortController }).abort.signal;
    for (let i = 0; i < 2880; i++) await clock.advance(30_000);
    expect(clock.pending).toBe(1);
    expect(getEventListeners(signal, 'abort').length).toBeLessThanOrEqual(1);
    expect(state.lists).toBeGreaterThan(2880);
    // The broker comes back: listed, backoff reset, error cleared.
    state.up = true;
    await clock.advance(30_000);
    expect(r.synced).toBe(true);
    expect(r.lastError).toBeUndefined();
    expect(r.list()).toHaveLength(1);
    await r.stop();
  });

  it('keeps the stale copy through an outage that starts after a successful list', async () => {
    const clock = new FakeClock();
    const { state, client } = flakyBroker();
    state.up = true;
    let changes = 0;
    const r = new Reflector({ client, path: '/p', onChange: () => changes++, clock, random: () => 0 });
    r.start();
    await clock.advance(0);
    expect(r.synced).toBe(true);
    expect(changes).toBe(1);
    // The watch fails (API server stopped) and relists fail.
    state.up = false;
    state.emit?.({
      type: 'ERROR',
      object: { code: 500, message: 'etcdserver: leader changed' },
    } as WatchEvent);
    await clock.advance(10_000);
    expect(r.lastError).toBeDefined();
    expect(r.list()).toHaveLength(1);
    expect(r.synced).toBe(true);
    await r.stop();
  });
});
