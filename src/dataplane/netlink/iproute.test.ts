import { describe, expect, test } from 'vitest';
import { ScriptedRunner } from '../fake-runner.ts';
import { IpRouteNetlink } from './iproute.ts';
import { normalizeRoute } from './route-spec.ts';

describe('IpRouteNetlink command lines', () => {
  test('route replace and delete carry proto, table and metric; scope only on replace (IPv4)', async () => {
    const route = normalizeRoute({
      dst: '10.1.0.5/16',
      dev: 'wg0',
      src: '10.99.1.1',
      proto: 109,
      table: 150,
    });
    const r = new ScriptedRunner()
      .expect([
        'ip',
        '-4',
        'route',
        'replace',
        'unicast',
        '10.1.0.0/16',
        'dev',
        'wg0',
        'src',
        '10.99.1.1',
        'proto',
        '109',
        'scope',
        '253',
        'table',
        '150',
        'metric',
        '0',
      ])
      .expect([
        'ip',
        '-4',
        'route',
        'del',
        'unicast',
        '10.1.0.0/16',
        'dev',
        'wg0',
        'src',
        '10.99.1.1',
        'proto',
        '109',
        'table',
        '150',
        'metric',
        '0',
      ]);
    const nl = new IpRouteNetlink(r);
    await nl.routeReplace(route);
    await nl.routeDel(route);
    r.assertDone();
  });

  test('a table that does not exist yet lists as empty', async () => {
    const r = new ScriptedRunner().expect(
      ['ip', '-j', '-N', '-4', 'route', 'show', 'table', '150', 'proto', '109'],
      {
        code: 2,
        stdout: '[',
        stderr: 'Error: ipv4: FIB table does not exist.\nDump terminated\n',
      },
    );
    expect(await new IpRouteNetlink(r).routeList({ family: 4, table: 150, proto: 109 })).toEqual([]);
  });

  test('linkGet of a missing device is undefined; route get of an unreachable address too', async () => {
    const r = new ScriptedRunner()
      .expect(['ip', '-j', '-N', '-d', 'link', 'show', 'dev', 'nope0'], {
        code: 1,
        stderr: 'Device "nope0" does not exist.',
      })
      .expect(['ip', '-j', 'route', 'get', '10.98.0.1'], {
        code: 2,
        stderr: 'RTNETLINK answers: Network is unreachable',
      });
    const nl = new IpRouteNetlink(r);
    expect(await nl.linkGet('nope0')).toBeUndefined();
    expect(await nl.routeGet('10.98.0.1')).toBeUndefined();
  });

  test('rules: selectors, mark/mask in hex, protocol', async () => {
    const r = new ScriptedRunner().expect([
      'ip',
      '-4',
      'rule',
      'add',
      'priority',
      '150',
      'from',
      '10.99.0.0/16',
      'fwmark',
      '0x10/0xff',
      'table',
      '150',
      'protocol',
      '109',
    ]);
    await new IpRouteNetlink(r).ruleAdd({
      family: 4,
      priority: 150,
      table: 150,
      src: '10.99.0.0/16',
      fwmark: 16,
      fwmask: 255,
      proto: 109,
    });
    r.assertDone();
  });

  test('addresses and links', async () => {
    const r = new ScriptedRunner()
      .expect(['ip', 'addr', 'add', 'fd99::1/64', 'dev', 'wg0'])
      .expect(['ip', 'link', 'set', 'dev', 'wg0', 'mtu', '1420']);
    const nl = new IpRouteNetlink(r);
    await nl.addrAdd('wg0', 'FD99:0::1/64');
    await nl.linkSetMtu('wg0', 1420);
    await expect(nl.linkSetMtu('wg0', 20)).rejects.toThrow(/MTU/);
    r.assertDone();
  });
});
