import { describe, expect, it } from 'vitest';
import { FakeHostNetwork } from '../dataplane/fakes.ts';
import { brokerHostOf, ProtectedAddressSource } from './protectedAddresses.ts';

describe('protected addresses', () => {
  it('are the broker API server, the default gateways and the nameservers', async () => {
    const host = new FakeHostNetwork();
    host.gateways = ['192.168.77.1'];
    host.servers = ['10.255.255.53'];
    const source = new ProtectedAddressSource({
      host,
      brokerServer: 'https://10.99.0.2:6443',
      log: () => {},
    });
    expect(await source.read()).toEqual([
      { address: '10.99.0.2', why: 'the broker API server' },
      { address: '192.168.77.1', why: "this host's default gateway" },
      { address: '10.255.255.53', why: "one of this host's nameservers" },
    ]);
  });

  it('resolves a broker given by name, and keeps the last answer (logged once) while reads fail', async () => {
    const host = new FakeHostNetwork();
    host.names.set('broker.example', ['10.1.2.3', '10.1.2.4']);
    host.gateways = ['192.168.1.1'];
    const log: string[] = [];
    const source = new ProtectedAddressSource({
      host,
      brokerServer: 'https://broker.example',
      log: (l) => log.push(l),
    });
    const first = await source.read();
    expect(first.map((p) => p.address)).toEqual(['10.1.2.3', '10.1.2.4', '192.168.1.1']);
    host.names.clear();
    host.failing = new Error('ip: cannot talk to netlink');
    expect(await source.read()).toEqual(first);
    expect(await source.read()).toEqual(first);
    expect(log).toHaveLength(2); // one line per failing read, not per reconcile
    expect(log.join('\n')).toMatch(/resolving the broker host broker\.example failed/);
    expect(log.join('\n')).toMatch(/reading the default routes failed \(ip: cannot talk to netlink\)/);
  });

  it('takes the host of the broker URL', () => {
    expect(brokerHostOf('https://10.99.0.2:6443')).toBe('10.99.0.2');
    expect(brokerHostOf('https://api.example.com')).toBe('api.example.com');
  });
});
