import { describe, expect, it } from 'vitest';
import { KubeApiError, type KubeRestClient, type RequestOptions } from '../k8s/rest.ts';
import { KubeLease, RENEW_DEADLINE_ANNOTATION } from './kubeLease.ts';

type Call = { verb: string; path: string; body?: unknown; signal?: AbortSignal };

function stubClient(reply: (c: Call) => unknown): { client: KubeRestClient; calls: Call[] } {
  const calls: Call[] = [];
  const answer = async (c: Call) => {
    calls.push(c);
    const r = reply(c);
    if (r instanceof Error) throw r;
    return r;
  };
  const client = {
    get: (path: string, o?: RequestOptions) =>
      answer({ verb: 'GET', path, ...(o?.signal ? { signal: o.signal } : {}) }),
    create: (path: string, body: unknown, o?: RequestOptions) =>
      answer({ verb: 'POST', path, body, ...(o?.signal ? { signal: o.signal } : {}) }),
    replace: (path: string, body: unknown, o?: RequestOptions) =>
      answer({ verb: 'PUT', path, body, ...(o?.signal ? { signal: o.signal } : {}) }),
  } as unknown as KubeRestClient;
  return { client, calls };
}

const PATH = '/apis/coordination.k8s.io/v1/namespaces/moor-system/leases/moor-gateway-lock';
const stored = {
  metadata: {
    name: 'moor-gateway-lock',
    resourceVersion: '41',
    annotations: { [RENEW_DEADLINE_ANNOTATION]: '600' },
  },
  spec: {
    holderIdentity: 'gw1',
    leaseDurationSeconds: 15,
    acquireTime: '2026-12-01T07:00:00.000001Z',
    renewTime: '2026-12-01T07:00:05.000002Z',
    leaseTransitions: 3,
  },
};

describe('KubeLease', () => {
  it('reads a record with its version and the renew deadline written into it; 404 is no Lease', async () => {
    const { client, calls } = stubClient((c) =>
      c.path === PATH ? stored : new KubeApiError('GET', c.path, 404, { reason: 'NotFound' }),
    );
    const lease = new KubeLease(client, 'moor-system', 'moor-gateway-lock');
    const signal = new AbortController().signal;
    expect(await lease.read(signal)).toEqual({
      holder: 'gw1',
      version: '41',
      renewTime: '2026-12-01T07:00:05.000002Z',
      leaseDurationMs: 15_000,
      transitions: 3,
      renewDeadlineMs: 600,
    });
    expect(calls[0]?.signal).toBe(signal);
    const other = new KubeLease(client, 'moor-system', 'absent');
    expect(await other.read(signal)).toBeUndefined();
  });

  it('renews with a PUT on exactly the version read, keeping acquireTime; a 409 is "someone else wrote"', async () => {
    let conflict = false;
    const { client, calls } = stubClient((c) =>
      conflict
        ? new KubeApiError('PUT', c.path, 409, { reason: 'Conflict' })
        : { ...stored, metadata: { ...stored.metadata, resourceVersion: '42' } },
    );
    const lease = new KubeLease(client, 'moor-system', 'moor-gateway-lock');
    const signal = new AbortController().signal;
    const { client: reader } = stubClient(() => stored);
    const current = await new KubeLease(reader, 'moor-system', 'moor-gateway-lock').read(signal);
    const next = {
      holder: 'gw1',
      leaseDurationMs: 15_000,
      renewTime: '2026-12-01T07:00:05.200003Z',
      acquire: false,
      renewDeadlineMs: 600,
    };
    // The record came from another KubeLease instance: acquireTime falls back to renewTime.
    const renewed = await lease.write(next, current, signal);
    expect(renewed?.version).toBe('42');
    expect(calls[0]).toMatchObject({
      verb: 'PUT',
      path: PATH,
      body: {
        metadata: { resourceVersion: '41', annotations: { [RENEW_DEADLINE_ANNOTATION]: '600' } },
        spec: {
          holderIdentity: 'gw1',
          leaseDurationSeconds: 15,
          renewTime: next.renewTime,
          leaseTransitions: 3,
        },
      },
    });
    // A record this instance returned keeps its acquireTime across renewals.
    await lease.write(next, renewed, signal);
    expect((calls[1]?.body as { spec: { acquireTime: string } } | undefined)?.spec.acquireTime).toBe(
      stored.spec.acquireTime,
    );
    conflict = true;
    expect(await lease.write(next, renewed, signal)).toBeUndefined();
  });

  it('creates when there is no Lease (409 AlreadyExists: lost the race); an acquire counts a transition', async () => {
    const { client, calls } = stubClient((c) =>
      c.verb === 'POST' ? new KubeApiError('POST', c.path, 409, { reason: 'AlreadyExists' }) : stored,
    );
    const lease = new KubeLease(client, 'moor-system', 'moor-gateway-lock');
    const signal = new AbortController().signal;
    const w = { holder: 'gw2', leaseDurationMs: 15_000, renewTime: 'r', acquire: true, renewDeadlineMs: 600 };
    expect(await lease.write(w, undefined, signal)).toBeUndefined();
    expect(calls[0]).toMatchObject({ verb: 'POST', path: PATH.replace('/moor-gateway-lock', '') });
    const current = await lease.read(signal);
    await lease.write(w, current, signal);
    expect(
      (calls[2]?.body as { spec: { leaseTransitions: number } } | undefined)?.spec.leaseTransitions,
    ).toBe(4);
  });
});
