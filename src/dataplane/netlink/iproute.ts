// The real NetlinkBasic over iproute2 (`ip -j -N`): one command per method. A native netlink
// binding would save the process spawns; `ip` keeps us dependency-free and its JSON is stable.
import { MoorError } from '../../errors.ts';
import { type IpFamily, normalizeAddressCidr, normalizeIp } from '../../net/ipv4.ts';
import { type CommandRunner, commandFailureOf } from '../exec.ts';
import { assertInterfaceName } from '../names.ts';
import {
  parseAddresses,
  parseJsonArray,
  parseLinks,
  parseRouteGet,
  parseRoutes,
  parseRules,
} from './parse.ts';
import { SCOPE_NUMBERS } from './route-spec.ts';
import {
  type Address,
  type Link,
  MAIN_TABLE,
  type NetlinkBasic,
  type Route,
  type RouteFilter,
  type RouteLookup,
  type Rule,
} from './types.ts';

const NO_DEVICE = /does not exist|Cannot find device/;

export class IpRouteNetlink implements NetlinkBasic {
  readonly #runner: CommandRunner;

  constructor(runner: CommandRunner) {
    this.#runner = runner;
  }

  async #json(argv: string[]): Promise<Record<string, unknown>[]> {
    const { stdout } = await this.#runner.run(argv);
    return parseJsonArray(stdout, argv.join(' '));
  }

  async linkList(): Promise<Link[]> {
    return parseLinks(await this.#json(['ip', '-j', '-N', '-d', 'link', 'show']));
  }

  async linkGet(name: string): Promise<Link | undefined> {
    assertInterfaceName(name);
    try {
      return parseLinks(await this.#json(['ip', '-j', '-N', '-d', 'link', 'show', 'dev', name]))[0];
    } catch (err) {
      if (NO_DEVICE.test(commandFailureOf(err)?.stderr ?? '')) return undefined;
      throw err;
    }
  }

  async linkSetUp(name: string): Promise<void> {
    assertInterfaceName(name);
    await this.#runner.run(['ip', 'link', 'set', 'dev', name, 'up']);
  }

  async linkSetDown(name: string): Promise<void> {
    assertInterfaceName(name);
    await this.#runner.run(['ip', 'link', 'set', 'dev', name, 'down']);
  }

  async linkSetMtu(name: string, mtu: number): Promise<void> {
    assertInterfaceName(name);
    if (!Number.isInteger(mtu) || mtu < 68 || mtu > 65535) {
      throw new MoorError('invalid-argument', `MTU must be an integer 68-65535, got ${mtu}`);
    }
    await this.#runner.run(['ip', 'link', 'set', 'dev', name, 'mtu', String(mtu)]);
  }

  async linkDelete(name: string): Promise<void> {
    assertInterfaceName(name);
    await this.#runner.run(['ip', 'link', 'del', 'dev', name]);
  }

  async addrList(dev?: string): Promise<Address[]> {
    if (dev !== undefined) assertInterfaceName(dev);
    const argv = ['ip', '-j', '-N', 'addr', 'show', ...(dev === undefined ? [] : ['dev', dev])];
    return parseAddresses(await this.#json(argv));
  }

  async addrAdd(dev: string, cidr: string): Promise<void> {
    assertInterfaceName(dev);
    await this.#runner.run(['ip', 'addr', 'add', normalizeAddressCidr(cidr), 'dev', dev]);
  }

  async addrDel(dev: string, cidr: string): Promise<void> {
    assertInterfaceName(dev);
    await this.#runner.run(['ip', 'addr', 'del', normalizeAddressCidr(cidr), 'dev', dev]);
  }

  async routeList(filter: RouteFilter): Promise<Route[]> {
    const argv = [
      'ip',
      '-j',
      '-N',
      `-${filter.family}`,
      'route',
      'show',
      'table',
      String(filter.table ?? MAIN_TABLE),
    ];
    if (filter.dev !== undefined) {
      assertInterfaceName(filter.dev);
      argv.push('dev', filter.dev);
    }
    if (filter.proto !== undefined) argv.push('proto', String(filter.proto));
    try {
      return parseRoutes(await this.#json(argv), filter);
    } catch (err) {
      // A table that never held a route does not exist yet; that is an empty table to us.
      if (/table does not exist/i.test(commandFailureOf(err)?.stderr ?? '')) return [];
      throw err;
    }
  }

  async routeReplace(route: Route): Promise<void> {
    await this.#runner.run(['ip', `-${route.family}`, 'route', 'replace', ...routeArgs(route, true)]);
  }

  async routeDel(route: Route): Promise<void> {
    await this.#runner.run(['ip', `-${route.family}`, 'route', 'del', ...routeArgs(route, false)]);
  }

  async routeGet(ip: string): Promise<RouteLookup | undefined> {
    const r = await this.#runner.run(['ip', '-j', 'route', 'get', normalizeIp(ip)], {
      allowNonZeroExit: true,
    });
    if (r.code !== 0) return undefined;
    return parseRouteGet(parseJsonArray(r.stdout, 'ip route get'));
  }

  async ruleList(family: IpFamily): Promise<Rule[]> {
    return parseRules(await this.#json(['ip', '-j', '-N', `-${family}`, 'rule', 'list']), family);
  }

  async ruleAdd(rule: Rule): Promise<void> {
    await this.#runner.run(['ip', `-${rule.family}`, 'rule', 'add', ...ruleArgs(rule)]);
  }

  async ruleDel(rule: Rule): Promise<void> {
    await this.#runner.run(['ip', `-${rule.family}`, 'rule', 'del', ...ruleArgs(rule)]);
  }
}

function routeArgs(r: Route, withScope: boolean): string[] {
  const argv = [r.type, r.dst];
  if (r.gateway !== undefined) argv.push('via', r.gateway);
  if (r.dev !== undefined) {
    assertInterfaceName(r.dev);
    argv.push('dev', r.dev);
  }
  if (r.src !== undefined) argv.push('src', r.src);
  argv.push('proto', String(r.proto));
  // On delete an unspecified scope is a wildcard, which is what we want.
  if (withScope && r.family === 4) argv.push('scope', String(SCOPE_NUMBERS[r.scope]));
  argv.push('table', String(r.table), 'metric', String(r.metric));
  return argv;
}

function ruleArgs(r: Rule): string[] {
  const argv = ['priority', String(r.priority)];
  if (r.src !== undefined) argv.push('from', r.src);
  if (r.dst !== undefined) argv.push('to', r.dst);
  if (r.fwmark !== undefined) {
    argv.push(
      'fwmark',
      r.fwmask === undefined
        ? `0x${r.fwmark.toString(16)}`
        : `0x${r.fwmark.toString(16)}/0x${r.fwmask.toString(16)}`,
    );
  }
  if (r.iif !== undefined) argv.push('iif', r.iif);
  if (r.oif !== undefined) argv.push('oif', r.oif);
  argv.push('table', String(r.table));
  if (r.proto !== 0) argv.push('protocol', String(r.proto));
  return argv;
}
