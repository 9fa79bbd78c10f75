import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ScriptedRunner } from './fake-runner.ts';
import { HostNetworkReader, parseDefaultGateways, parseNameservers } from './host-network.ts';

describe('host network reader', () => {
  it('reads the gateways of default routes in every table, multipath included', async () => {
    const runner = new ScriptedRunner().expect(
      ['ip', '-j', '-4', 'route', 'show', 'default', 'table', 'all'],
      {
        stdout: JSON.stringify([
          { dst: 'default', gateway: '192.168.77.1', dev: 'eth0', flags: [] },
          { dst: 'default', table: '100', gateway: '172.31.1.1', dev: 'eth1', flags: ['onlink'] },
          { dst: 'default', nexthops: [{ gateway: '10.0.0.1' }, { gateway: '10.0.1.1' }] },
          { dst: 'default', dev: 'ppp0', flags: [] },
          { dst: 'default', gateway: '192.168.77.1', dev: 'eth0', metric: 200 },
        ]),
      },
    );
    expect(await new HostNetworkReader(runner).defaultGateways()).toEqual([
      '192.168.77.1',
      '172.31.1.1',
      '10.0.0.1',
      '10.0.1.1',
    ]);
    runner.assertDone();
  });

  it('has no gateways without a default route', () => {
    expect(parseDefaultGateways('')).toEqual([]);
    expect(parseDefaultGateways('[]')).toEqual([]);
  });

  it('reads nameserver lines, skipping comments and other keywords', () => {
    const text = [
      '# generated',
      'search example.com',
      'nameserver 10.255.255.53 # corporate',
      ';nameserver 10.9.9.9',
      'nameserver fd00::53',
      'nameserver 1.2.3',
      '  nameserver\t9.9.9.9',
      'options edns0',
    ].join('\n');
    expect(parseNameservers(text)).toEqual(['10.255.255.53', 'fd00::53', '1.2.3', '9.9.9.9']);
  });

  it('reads the IPv4 nameservers of resolv.conf and the systemd-resolved upstream list; a missing file names none', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'moor-resolv-'));
    writeFileSync(join(dir, 'resolv.conf'), 'nameserver 127.0.0.53\n');
    writeFileSync(
      join(dir, 'upstream.conf'),
      'nameserver 10.1.1.53\nnameserver fd00::53\nnameserver 127.0.0.53\n',
    );
    const reader = new HostNetworkReader(new ScriptedRunner(), [
      join(dir, 'resolv.conf'),
      join(dir, 'upstream.conf'),
      join(dir, 'missing.conf'),
    ]);
    expect(await reader.nameservers()).toEqual(['127.0.0.53', '10.1.1.53']);
  });

  it('resolves an IP literal to itself without asking DNS', async () => {
    expect(await new HostNetworkReader(new ScriptedRunner()).resolve('10.99.0.2')).toEqual(['10.99.0.2']);
  });
});
