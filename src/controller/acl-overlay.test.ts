import { describe, expect, it } from 'vitest';
import { WrittenOverlay } from './acl-overlay.ts';

const obj = (name: string, rv: string, v = 0) => ({ metadata: { name, resourceVersion: rv }, v });

describe('WrittenOverlay', () => {
  it('answers with our write until the Reflector moves off the version it started from', () => {
    const o = new WrittenOverlay(1000);
    o.record({ name: 'a', base: '5', object: obj('a', '7', 1) }, 0);
    expect(o.merge([obj('a', '5')], 10)).toEqual([obj('a', '7', 1)]); // lagging: ours
    expect(o.merge([obj('a', '7', 1)], 20)).toEqual([obj('a', '7', 1)]); // caught up
    expect(o.size).toBe(0);
  });

  it('trusts a later change by someone else, and stops guessing after the TTL', () => {
    const o = new WrittenOverlay(1000);
    o.record({ name: 'a', base: '5', object: obj('a', '7', 1) }, 0);
    expect(o.merge([obj('a', '9', 2)], 10)).toEqual([obj('a', '9', 2)]);
    o.record({ name: 'b', base: undefined, object: obj('b', '8') }, 0);
    expect(o.merge([], 500)).toEqual([obj('b', '8')]); // created, not seen yet
    expect(o.merge([], 1001)).toEqual([]); // gone again (deleted by someone) after the TTL
  });

  it('hides an object we deleted until the Reflector drops it', () => {
    const o = new WrittenOverlay();
    o.record({ name: 'a', base: '5', object: undefined }, 0);
    expect(o.merge([obj('a', '5'), obj('b', '6')], 1)).toEqual([obj('b', '6')]);
    expect(o.merge([obj('b', '6')], 2)).toEqual([obj('b', '6')]);
    expect(o.size).toBe(0);
  });
});
