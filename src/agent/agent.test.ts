// The host agent's wiring on fakes: with the broker unreachable from the first moment (and no
// snapshot yet) it still sets its tunnel up additively, resolves `ready`, reports every
// reconcile to subscribers, and publishes nothing.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ScriptedRunner } from '../dataplane/fake-runner.ts';
import { FakeNetlink } from '../dataplane/netlink/fake.ts';
import { FakePinger } from '../dataplane/ping/fake.ts';
import { FakeWireGuard } from '../dataplane/wireguard/fake.ts';
import { systemClock } from '../reconcile/clock.ts';
import type { ReconcileOutcome } from '../reconcile/outcome.ts';
import { HostAgent } from './agent.ts';
import { type HostState, savePrivateKey, saveState } from './state.ts';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function joinedStateDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'moor-agent-test-'));
  dirs.push(dir);
  const state: HostState = {
    version: 1,
    clusterId: 'vm1',
    // Nothing listens on port 1: every broker request is refused at once.
    broker: {
      server: 'https://127.0.0.1:1',
      namespace: 'submariner-k8s-broker',
      caPem: '',
      insecure: true,
      token: 't',
    },
    psk: 'psk-string',
    serviceDiscovery: true,
    customDomains: [],
    addresses: ['100.70.0.10'],
    addressClaims: [],
    privateIp: '192.168.77.2',
    publicIp: '10.99.3.2',
    natEnabled: true,
    port: 4500,
    interfaceName: 'moor0',
    hostname: 'vm1',
    credential: { serviceAccount: 'cluster-vm1', roleBinding: 'rb', tokenSecret: 's' },
  };
  saveState(dir, state);
  savePrivateKey(dir, Buffer.alloc(32, 0x11).toString('base64'));
  return dir;
}

describe('HostAgent', () => {
  it('is ready with the broker down: tunnel set up additively, nothing published, reconciles reported', async () => {
    const netlink = new FakeNetlink();
    netlink.addLink('eth0', { up: true });
    const wireguard = new FakeWireGuard('wireguard-go', netlink);
    const pinger = new FakePinger();
    const agent = new HostAgent({
      stateDir: joinedStateDir(),
      runner: new ScriptedRunner(), // strict: any command would fail the test
      log: () => {},
      dns: 'off',
      ports: { netlink, wireguard, ping: (o) => pinger.bind(o), clock: systemClock },
    });
    const outcomes: ReconcileOutcome[] = [];
    agent.onReconciled((o) => outcomes.push(o));
    await agent.start();
    await agent.ready;
    await agent.engine?.loop.idle();
    expect(netlink.dump()).toContain('link moor0 mtu 1420 up');
    expect(netlink.dump()).toContain('addr 100.70.0.10/32');
    expect(wireguard.dump()).toContain('moor0 pub=');
    expect(wireguard.calls.filter((c) => c.op === 'removePeer')).toEqual([]);
    expect(outcomes.length).toBeGreaterThan(0);
    expect(outcomes[0]?.waiting).toMatch(/broker not listed yet/);
    await agent.engine?.refreshStatus();
    expect(agent.status()?.registration).toMatchObject({ published: false, endpointName: null });
    expect(agent.status()?.broker).toMatchObject({ synced: false, serving: 'none' });
    await agent.stop();
  });
});
