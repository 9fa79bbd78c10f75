import { describe, expect, it } from 'vitest';
import type { AgentStatus } from '../cables/status.ts';
import { brokerLine, dnsLine, egressLine, registrationLine } from './status-lines.ts';

const NOW = Date.parse('2026-12-01T08:00:00Z');
const minutesAgo = (m: number) => new Date(NOW - m * 60_000).toISOString();

function status(over: {
  broker?: Partial<AgentStatus['broker']>;
  registration?: Partial<AgentStatus['registration']>;
}) {
  return {
    broker: {
      server: 'https://10.0.0.1:6443',
      namespace: 'submariner-k8s-broker',
      synced: true,
      lastError: null,
      unreachableSince: null,
      serving: 'broker',
      snapshotSavedAt: minutesAgo(30),
      ...over.broker,
    },
    registration: {
      published: true,
      endpointName: 'vm-db-submariner-cable-vm-db-192-168-0-5',
      lastError: null,
      confirmedAt: minutesAgo(0.5),
      ...over.registration,
    },
  } as AgentStatus;
}

describe('moor status lines during an outage', () => {
  it('a healthy agent', () => {
    const s = status({});
    expect(brokerLine(s, NOW)).toBe('https://10.0.0.1:6443 namespace submariner-k8s-broker: watching');
    expect(registrationLine(s, NOW)).toBe(
      'published as vm-db-submariner-cable-vm-db-192-168-0-5, last confirmed 30s ago',
    );
  });

  it('broker down while running: the last confirmed registration, not NOT PUBLISHED', () => {
    const s = status({
      broker: { lastError: 'connect ECONNREFUSED', unreachableSince: minutesAgo(12) },
      registration: { lastError: 'connect ECONNREFUSED', confirmedAt: minutesAgo(12) },
    });
    expect(brokerLine(s, NOW)).toBe(
      'https://10.0.0.1:6443 namespace submariner-k8s-broker: UNREACHABLE since 12m ago: connect ECONNREFUSED; using the last list',
    );
    expect(registrationLine(s, NOW)).toBe(
      'published as vm-db-submariner-cable-vm-db-192-168-0-5, last confirmed 12m ago; re-asserting fails: connect ECONNREFUSED',
    );
  });

  it('restarted with the broker down: serving from the snapshot, with its age', () => {
    const s = status({
      broker: {
        synced: false,
        lastError: 'connect ECONNREFUSED',
        unreachableSince: minutesAgo(3),
        serving: 'snapshot',
      },
      registration: { published: false, endpointName: null, confirmedAt: null },
    });
    expect(brokerLine(s, NOW)).toBe(
      'https://10.0.0.1:6443 namespace submariner-k8s-broker: UNREACHABLE since 3m ago: connect ECONNREFUSED; SERVING FROM SNAPSHOT saved 30m ago (not listed since the agent started; nothing is removed until it is)',
    );
    expect(registrationLine(s, NOW)).toBe('pending (waiting for the broker)');
  });

  it('DNS from the snapshot says so', () => {
    expect(
      dnsLine(
        {
          listen: '100.70.0.10:53',
          ready: true,
          services: 3,
          problems: 0,
          brokerError: 'down',
          fromSnapshot: minutesAgo(30),
          resolver: null,
        },
        NOW,
      ),
    ).toBe('100.70.0.10:53 serving from the snapshot saved 30m ago, 3 services (broker: down)');
  });
});

describe('egressLine', () => {
  it('counts the clusterset egress IPs and names the objects not trusted', () => {
    expect(egressLine({ ready: false, clusters: 0, egressIPs: 0, ignored: [] })).toBe(
      'waiting for the broker',
    );
    expect(
      egressLine({ ready: true, clusters: 2, egressIPs: 3, ignored: ['EgressMapSummary/b/x-0 (conflict)'] }),
    ).toBe('3 egress IPs of 2 clusters; ignored: EgressMapSummary/b/x-0 (conflict)');
    expect(
      egressLine({
        ready: false,
        clusters: 0,
        egressIPs: 0,
        ignored: [],
        accessError: 'no Cluster access (fix: x)',
      }),
    ).toBe('waiting for the broker; the broker refuses: no Cluster access (fix: x)');
  });
});
