// Parsers against output captured from iproute2-6.1.0 (`ip -j -N …`).
import { describe, expect, test } from 'vitest';
import {
  parseAddresses,
  parseJsonArray,
  parseLinks,
  parseRouteGet,
  parseRoutes,
  parseRules,
} from './parse.ts';

const LINK = `[{"ifindex":3,"link":"vb","ifname":"va","flags":["BROADCAST","MULTICAST","UP","LOWER_UP"],"mtu":1500,"qdisc":"noqueue","operstate":"UP","linkmode":"DEFAULT","group":"0","txqlen":1000,"link_type":"[1]","address":"22:4f:a9:52:06:fc","linkinfo":{"info_kind":"veth"}},
{"ifindex":2,"ifname":"wgprobe0","flags":["POINTOPOINT","MULTICAST","NOARP"],"mtu":1420,"operstate":"DOWN","linkinfo":{"info_kind":"tun","info_data":{"type":"tun"}}}]`;

const ADDR = `[{"ifindex":3,"link":"vb","ifname":"va","flags":["UP"],"mtu":1500,"addr_info":[{"family":"inet","local":"10.99.0.1","prefixlen":30,"scope":"0","label":"va","valid_life_time":4294967295,"preferred_life_time":4294967295},{"family":"inet6","local":"fd99::1","prefixlen":64,"scope":"0","nodad":true},{"family":"inet6","local":"fe80::204f:a9ff:fe52:6fc","prefixlen":64,"scope":"253"}]}]`;

const ROUTES_ALL = `[{"dst":"10.99.5.0/24","dev":"va","table":"150","protocol":"109","scope":"253","prefsrc":"10.99.0.1","flags":[]},{"dst":"10.99.0.0/30","dev":"va","protocol":"2","scope":"253","prefsrc":"10.99.0.1","flags":[]},{"dst":"10.99.6.1","gateway":"10.99.0.2","dev":"va","protocol":"109","metric":5,"flags":[]},{"type":"2","dst":"10.99.0.1","dev":"va","table":"255","protocol":"2","scope":"254","prefsrc":"10.99.0.1","flags":[]},{"type":"6","dst":"10.99.9.0/24","protocol":"109","flags":[]},{"dst":"default","gateway":"10.99.0.2","dev":"va","flags":[]},{"type":"4","dst":"10.99.1.0/24","dev":"va","flags":[]}]`;

describe('ip -j -N parsers', () => {
  test('links', () => {
    expect(parseLinks(parseJsonArray(LINK, 'test'))).toEqual([
      { name: 'va', index: 3, mtu: 1500, up: true, operState: 'UP', kind: 'veth' },
      { name: 'wgprobe0', index: 2, mtu: 1420, up: false, operState: 'DOWN', kind: 'tun' },
    ]);
  });

  test('addresses keep host bits and map numeric scopes', () => {
    expect(parseAddresses(parseJsonArray(ADDR, 'test'))).toEqual([
      { dev: 'va', family: 4, cidr: '10.99.0.1/30', scope: 'global' },
      { dev: 'va', family: 6, cidr: 'fd99::1/64', scope: 'global' },
      { dev: 'va', family: 6, cidr: 'fe80::204f:a9ff:fe52:6fc/64', scope: 'link' },
    ]);
  });

  test('routes of table all: omitted fields get the kernel defaults, anycast is skipped', () => {
    const routes = parseRoutes(parseJsonArray(ROUTES_ALL, 'test'), { family: 4 });
    expect(routes).toEqual([
      {
        family: 4,
        dst: '10.99.5.0/24',
        table: 150,
        metric: 0,
        type: 'unicast',
        proto: 109,
        scope: 'link',
        dev: 'va',
        src: '10.99.0.1',
      },
      {
        family: 4,
        dst: '10.99.0.0/30',
        table: 254,
        metric: 0,
        type: 'unicast',
        proto: 2,
        scope: 'link',
        dev: 'va',
        src: '10.99.0.1',
      },
      {
        family: 4,
        dst: '10.99.6.1/32',
        table: 254,
        metric: 5,
        type: 'unicast',
        proto: 109,
        scope: 'global',
        dev: 'va',
        gateway: '10.99.0.2',
      },
      {
        family: 4,
        dst: '10.99.0.1/32',
        table: 255,
        metric: 0,
        type: 'local',
        proto: 2,
        scope: 'host',
        dev: 'va',
        src: '10.99.0.1',
      },
      {
        family: 4,
        dst: '10.99.9.0/24',
        table: 254,
        metric: 0,
        type: 'blackhole',
        proto: 109,
        scope: 'global',
      },
      {
        family: 4,
        dst: '0.0.0.0/0',
        table: 254,
        metric: 0,
        type: 'unicast',
        proto: 3,
        scope: 'global',
        dev: 'va',
        gateway: '10.99.0.2',
      },
    ]);
  });

  test('the filter fills fields ip leaves out when filtering by them', () => {
    const text = '[{"dst":"fd98::/64","gateway":"fd99::2","metric":1024,"flags":[],"pref":"medium"}]';
    expect(
      parseRoutes(parseJsonArray(text, 'test'), { family: 6, table: 150, dev: 'va', proto: 109 }),
    ).toEqual([
      {
        family: 6,
        dst: 'fd98::/64',
        table: 150,
        metric: 1024,
        type: 'unicast',
        proto: 109,
        scope: 'global',
        dev: 'va',
        gateway: 'fd99::2',
      },
    ]);
  });

  test('route get, with a locked MTU', () => {
    const text =
      '[{"dst":"10.99.8.1","dev":"va","prefsrc":"10.99.0.1","flags":[],"uid":0,"cache":[],"metrics":[{"mtu":1300}]}]';
    expect(parseRouteGet(parseJsonArray(text, 'test'))).toEqual({ dev: 'va', src: '10.99.0.1', mtu: 1300 });
    expect(parseRouteGet([])).toBeUndefined();
  });

  test('rules', () => {
    const text = `[{"priority":0,"src":"all","table":"255"},{"priority":150,"src":"10.99.0.0","srclen":16,"table":"150","protocol":"109"},{"priority":151,"src":"all","dst":"10.99.7.0","dstlen":24,"fwmark":"0x10","fwmask":"0xff","iif":"va","table":"150"}]`;
    expect(parseRules(parseJsonArray(text, 'test'), 4)).toEqual([
      { family: 4, priority: 0, table: 255, proto: 0 },
      { family: 4, priority: 150, table: 150, proto: 109, src: '10.99.0.0/16' },
      {
        family: 4,
        priority: 151,
        table: 150,
        proto: 0,
        dst: '10.99.7.0/24',
        fwmark: 16,
        fwmask: 255,
        iif: 'va',
      },
    ]);
  });

  test('garbage is a system error', () => {
    expect(() => parseJsonArray('[', 'ip route show')).toThrow(/unexpected output from ip route show/);
    expect(parseJsonArray('', 'x')).toEqual([]);
  });
});
