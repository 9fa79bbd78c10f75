import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type PolicyForPods, pickIp, resolvePods } from './egress-pods.ts';
import type { NamespaceInput, PodInput } from './egress-types.ts';

const ns: NamespaceInput[] = [
  { name: 'payments', labels: { team: 'payments' } },
  { name: 'web', labels: { team: 'web' } },
];
const pod = (namespace: string, name: string, labels: Record<string, string>, ip?: string): PodInput => ({
  namespace,
  name,
  labels,
  node: 'w1',
  phase: 'Running',
  ...(ip === undefined ? {} : { ip }),
});
const policy = (name: string, priority: number, over: Partial<PolicyForPods> = {}): PolicyForPods => ({
  name,
  priority,
  ips: [`10.99.10.${priority + 30}`],
  ...over,
});

describe('resolvePods', () => {
  it('gives each pod the highest-priority policy that selects it', () => {
    const r = resolvePods({
      namespaces: ns,
      pods: [
        pod('payments', 'checkout-1', { app: 'checkout' }, '10.1.0.5'),
        pod('web', 'front', { app: 'front' }, '10.1.0.6'),
      ],
      policies: [
        policy('all-payments', 1, { namespaceSelector: { matchLabels: { team: 'payments' } } }),
        policy('checkout', 5, { podSelector: { matchLabels: { app: 'checkout' } } }),
      ],
    });
    expect(r.assignments).toEqual([
      {
        namespace: 'payments',
        name: 'checkout-1',
        node: 'w1',
        podIP: '10.1.0.5',
        policy: 'checkout',
        egressIP: '10.99.10.35',
      },
    ]);
    expect(r.policies['all-payments']?.conditions[0]).toMatchObject({
      status: 'False',
      reason: 'ShadowedByOtherPolicies',
    });
    expect(r.policies.checkout?.selectedPods).toBe(1);
  });

  it('breaks a tie of equal priority by name and reports it on both policies', () => {
    const r = resolvePods({
      namespaces: ns,
      pods: [pod('payments', 'a', {}, '10.1.0.5')],
      policies: [policy('zeta', 3), policy('alpha', 3)],
    });
    expect(r.assignments[0]?.policy).toBe('alpha');
    for (const name of ['alpha', 'zeta'])
      expect(r.policies[name]?.conditions[1]).toMatchObject({
        type: 'Conflict',
        reason: 'EqualPriority',
        message: expect.stringContaining('alpha wins'),
      });
  });

  it('reports a selector that matches nothing, and ignores host-network and finished pods', () => {
    const r = resolvePods({
      namespaces: ns,
      pods: [
        { ...pod('web', 'h', { app: 'x' }, '10.99.10.3'), hostNetwork: true },
        { ...pod('web', 'done', { app: 'x' }, '10.1.0.9'), phase: 'Succeeded' },
      ],
      policies: [policy('x', 0, { podSelector: { matchLabels: { app: 'x' } } })],
    });
    expect(r.assignments).toEqual([]);
    expect(r.policies.x?.conditions[0]).toMatchObject({ reason: 'NoMatchingPods' });
  });

  it('selects a pod without an address yet, so its node can drop its traffic from the first packet', () => {
    const r = resolvePods({ namespaces: ns, pods: [pod('web', 'new', {})], policies: [policy('all', 0)] });
    expect(r.assignments[0]).toMatchObject({ policy: 'all', podIP: undefined });
  });

  it('property: the result does not depend on the order of pods, policies or namespaces', () => {
    const arbPolicy = fc.record({
      name: fc.constantFrom('a', 'b', 'c', 'd'),
      priority: fc.integer({ min: 0, max: 2 }),
      app: fc.option(fc.constantFrom('x', 'y'), { nil: undefined }),
      team: fc.option(fc.constantFrom('payments', 'web'), { nil: undefined }),
    });
    const arbPod = fc.record({
      namespace: fc.constantFrom('payments', 'web'),
      name: fc.constantFrom('p1', 'p2', 'p3', 'p4', 'p5'),
      app: fc.constantFrom('x', 'y', 'z'),
    });
    fc.assert(
      fc.property(
        fc.uniqueArray(arbPolicy, { selector: (p) => p.name }),
        fc.uniqueArray(arbPod, { selector: (p) => `${p.namespace}/${p.name}` }),
        (ps, pods) => {
          const policies = ps.map((p) =>
            policy(p.name, p.priority, {
              ...(p.app ? { podSelector: { matchLabels: { app: p.app } } } : {}),
              ...(p.team ? { namespaceSelector: { matchLabels: { team: p.team } } } : {}),
            }),
          );
          const podInputs = pods.map((p, i) => pod(p.namespace, p.name, { app: p.app }, `10.1.0.${i + 1}`));
          const a = resolvePods({ namespaces: ns, pods: podInputs, policies });
          const b = resolvePods({
            namespaces: [...ns].reverse(),
            pods: [...podInputs].reverse(),
            policies: [...policies].reverse(),
          });
          expect(b).toEqual(a);
          // Every pod's policy selects it and none of higher priority does.
          for (const asg of a.assignments) {
            const won = policies.find((p) => p.name === asg.policy)!;
            for (const p of policies) if (p.priority > won.priority) expect(asg.policy).not.toBe(p.name);
          }
        },
      ),
    );
  });

  it('pickIp moves only the pods of an added IP', () => {
    const before = ['10.0.0.1', '10.0.0.2'];
    const after = [...before, '10.0.0.3'];
    for (let i = 0; i < 200; i++) {
      const key = `ns/pod-${i}`;
      const a = pickIp(key, before);
      const b = pickIp(key, after);
      if (b !== '10.0.0.3') expect(b).toBe(a);
      expect(pickIp(key, [...after].reverse())).toBe(b);
    }
  });
});
