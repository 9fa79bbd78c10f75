import { describe, expect, it } from 'vitest';
import type { ReflectorClient } from '../k8s/reflector.ts';
import type { WatchEvent } from '../k8s/rest.ts';
import { mapSliceObject } from '../plan/egress-mapping-wire.ts';
import { MappingView } from './mapping-view.ts';

const slice = (name: string, pod: string, ip: string) => ({
  ...mapSliceObject({
    name,
    policy: 'checkout',
    gateway: 'east',
    destinations: [{ cidr: '10.50.0.0/24' }],
    entries: [
      {
        namespace: 'payments',
        pod,
        workload: { kind: 'Deployment', name: 'checkout' },
        egressIP: ip,
        since: '2026-12-01T10:00:00Z',
      },
    ],
  }),
  metadata: { name, labels: { 'egress.moor.io/policy': 'checkout' }, resourceVersion: '3' },
});

function fakeApi(items: unknown[]) {
  let emit: ((e: WatchEvent) => void) | undefined;
  const client: ReflectorClient = {
    get: (async () => ({ items, metadata: { resourceVersion: '5' } })) as ReflectorClient['get'],
    watch: (_path, onEvent, signal) => {
      emit = onEvent;
      return new Promise<void>((resolve) =>
        signal.addEventListener('abort', () => resolve(), { once: true }),
      );
    },
  };
  return { client, emit: (e: WatchEvent) => emit?.(e) };
}

describe('MappingView', () => {
  it('is undefined before the first list, then follows changes and refuses a forged slice', async () => {
    const api = fakeApi([
      slice('checkout-0', 'a', '10.99.10.33'),
      {
        ...slice('bad', 'b', '10.99.10.34'),
        metadata: { name: 'bad', labels: { 'egress.moor.io/policy': 'other' } },
      },
    ]);
    const view = new MappingView({ client: api.client });
    expect(view.read()).toBeUndefined();
    let changes = 0;
    view.onChange(() => changes++);
    view.start();
    await view.waitForSync(2000);
    const first = view.read();
    expect(first?.rows.map((r) => [r.pod, r.egressIP])).toEqual([['a', '10.99.10.33']]);
    expect(first?.problems.map((p) => p.object)).toEqual(['EgressMapSlice/bad']);
    expect(view.read()).toBe(first); // cached until something changes
    const before = changes;
    api.emit({
      type: 'ADDED',
      object: {
        ...slice('checkout-1', 'c', '10.99.10.35'),
        metadata: {
          name: 'checkout-1',
          labels: { 'egress.moor.io/policy': 'checkout' },
          resourceVersion: '6',
        },
      },
    } as WatchEvent);
    expect(changes).toBeGreaterThan(before);
    const second = view.read();
    expect(second?.generation).toBeGreaterThan(first?.generation ?? 0);
    expect(second?.rows.map((r) => r.pod)).toEqual(['a', 'c']);
    await view.stop();
  });

  it('re-parses only the slices a change touched', async () => {
    const api = fakeApi([slice('checkout-0', 'a', '10.99.10.33'), slice('checkout-1', 'b', '10.99.10.34')]);
    const view = new MappingView({ client: api.client });
    view.start();
    await view.waitForSync(2000);
    const first = view.read();
    const changed = slice('checkout-1', 'b', '10.99.10.35');
    api.emit({
      type: 'MODIFIED',
      object: { ...changed, metadata: { ...changed.metadata, resourceVersion: '7' } },
    } as WatchEvent);
    const second = view.read();
    expect(second?.slices[0]).toBe(first?.slices[0]); // untouched: the same parsed object
    expect(second?.slices[1]).not.toBe(first?.slices[1]);
    expect(second?.rows.map((r) => r.egressIP)).toEqual(['10.99.10.33', '10.99.10.35']);
    api.emit({
      type: 'DELETED',
      object: { ...changed, metadata: { ...changed.metadata, resourceVersion: '8' } },
    } as WatchEvent);
    expect(view.read()?.rows.map((r) => r.pod)).toEqual(['a']);
    await view.stop();
  });
});
