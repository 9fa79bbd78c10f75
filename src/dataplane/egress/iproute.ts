// Real egress ports: VXLAN devices and neighbours through iproute2, sysctls through /proc/sys,
// gratuitous ARP through arping.
import { readFile, writeFile } from 'node:fs/promises';
import { MoorError } from '../../errors.ts';
import { type CommandRunner, commandFailureOf } from '../exec.ts';
import { assertInterfaceName } from '../names.ts';
import type {
  ArpAnnouncer,
  EgressLinkBasic,
  FdbEntry,
  Neighbour,
  SysctlBasic,
  VxlanObserved,
  VxlanSpec,
} from './types.ts';

const MAC = /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/;
const IPV4 = /^\d{1,3}(\.\d{1,3}){3}$/;
type Json = Record<string, unknown>;

function checkIp(ip: string): void {
  if (!IPV4.test(ip)) throw new MoorError('invalid-argument', `"${ip}" is not an IPv4 address`);
}

export class IpEgressLinks implements EgressLinkBasic {
  readonly #runner: CommandRunner;

  constructor(runner: CommandRunner) {
    this.#runner = runner;
  }

  async vxlanList(prefix: string): Promise<VxlanObserved[]> {
    const { stdout } = await this.#runner.run(['ip', '-j', '-d', 'link', 'show', 'type', 'vxlan']);
    const list = JSON.parse(stdout || '[]') as Json[];
    const out: VxlanObserved[] = [];
    for (const l of list) {
      const name = String(l.ifname ?? '');
      if (!name.startsWith(prefix)) continue;
      const info = ((l.linkinfo as Json | undefined)?.info_data ?? {}) as Json;
      out.push({
        name,
        vni: Number(info.id),
        port: Number(info.port ?? 4789),
        dev: typeof info.link === 'string' ? info.link : undefined,
        remote: typeof info.remote === 'string' ? info.remote : undefined,
        mac: String(l.address ?? ''),
        mtu: Number(l.mtu),
        learning: info.learning !== false,
        up: Array.isArray(l.flags) && l.flags.includes('UP'),
      });
    }
    return out;
  }

  async vxlanCreate(spec: VxlanSpec): Promise<void> {
    assertInterfaceName(spec.name);
    assertInterfaceName(spec.dev);
    const argv = ['ip', 'link', 'add', spec.name];
    if (spec.mac !== undefined) {
      if (!MAC.test(spec.mac)) throw new MoorError('invalid-argument', `"${spec.mac}" is not a MAC address`);
      argv.push('address', spec.mac);
    }
    argv.push('mtu', String(spec.mtu), 'type', 'vxlan', 'id', String(spec.vni));
    if (spec.remote !== undefined) {
      checkIp(spec.remote);
      argv.push('remote', spec.remote);
    }
    argv.push('dstport', String(spec.port), 'dev', spec.dev, 'nolearning');
    await this.#runner.run(argv);
  }

  async linkSetUp(name: string): Promise<void> {
    assertInterfaceName(name);
    await this.#runner.run(['ip', 'link', 'set', 'dev', name, 'up']);
  }

  async linkSetMtu(name: string, mtu: number): Promise<void> {
    assertInterfaceName(name);
    await this.#runner.run(['ip', 'link', 'set', 'dev', name, 'mtu', String(mtu)]);
  }

  async linkDelete(name: string): Promise<void> {
    assertInterfaceName(name);
    await this.#runner.run(['ip', 'link', 'del', 'dev', name]);
  }

  async neighList(dev: string): Promise<Neighbour[]> {
    assertInterfaceName(dev);
    try {
      const { stdout } = await this.#runner.run(['ip', '-j', '-4', 'neigh', 'show', 'dev', dev]);
      return (JSON.parse(stdout || '[]') as Json[]).map((n) => ({
        dev,
        address: String(n.dst ?? ''),
        mac: String(n.lladdr ?? ''),
        permanent: Array.isArray(n.state) && n.state.includes('PERMANENT'),
      }));
    } catch (err) {
      if (/does not exist|Cannot find device/.test(commandFailureOf(err)?.stderr ?? '')) return [];
      throw err;
    }
  }

  async neighReplace(dev: string, address: string, mac: string): Promise<void> {
    assertInterfaceName(dev);
    checkIp(address);
    if (!MAC.test(mac)) throw new MoorError('invalid-argument', `"${mac}" is not a MAC address`);
    await this.#runner.run([
      'ip',
      'neigh',
      'replace',
      address,
      'lladdr',
      mac,
      'dev',
      dev,
      'nud',
      'permanent',
    ]);
  }

  async fdbList(dev: string): Promise<FdbEntry[]> {
    assertInterfaceName(dev);
    try {
      const { stdout } = await this.#runner.run(['bridge', '-j', 'fdb', 'show', 'dev', dev]);
      return (JSON.parse(stdout || '[]') as Json[])
        .filter((e) => typeof e.dst === 'string')
        .map((e) => ({
          dev,
          mac: String(e.mac ?? ''),
          dst: String(e.dst),
          permanent: e.state === 'permanent',
        }));
    } catch (err) {
      if (/does not exist|Cannot find device/.test(commandFailureOf(err)?.stderr ?? '')) return [];
      throw err;
    }
  }

  async fdbReplace(dev: string, mac: string, dst: string): Promise<void> {
    await this.#runner.run(fdbArgs('replace', dev, mac, dst));
  }

  async fdbDelete(dev: string, mac: string, dst: string): Promise<void> {
    await this.#runner.run(fdbArgs('del', dev, mac, dst));
  }
}

export function fdbArgs(op: 'replace' | 'del', dev: string, mac: string, dst: string): string[] {
  assertInterfaceName(dev);
  checkIp(dst);
  if (!MAC.test(mac)) throw new MoorError('invalid-argument', `"${mac}" is not a MAC address`);
  const argv = ['bridge', 'fdb', op, mac, 'dev', dev, 'dst', dst, 'self'];
  return op === 'replace' ? [...argv, 'permanent'] : argv;
}

const SYSCTL_KEY = /^[a-z0-9_]+(\.[A-Za-z0-9_-]+)+$/;

function sysctlPath(key: string): string {
  if (!SYSCTL_KEY.test(key) || key.includes('..'))
    throw new MoorError('invalid-argument', `"${key}" is not a sysctl key`);
  return `/proc/sys/${key.replaceAll('.', '/')}`;
}

/** /proc/sys of the network namespace this process runs in. */
export class ProcSysctl implements SysctlBasic {
  async read(key: string): Promise<string | undefined> {
    try {
      return (await readFile(sysctlPath(key), 'utf8')).trim();
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
  }

  async write(key: string, value: string): Promise<void> {
    await writeFile(sysctlPath(key), `${value}\n`);
  }
}

/** Gratuitous ARP with iputils arping: one unsolicited request at once and one 50 ms later, so a
 * lost frame does not cost a whole neighbour timeout. Both frames leave within ~50 ms; the
 * promise resolves when arping exits (~1 s later, it waits for replies that never come), so
 * callers that must not wait do not await it. */
export class ArpingAnnouncer implements ArpAnnouncer {
  readonly #runner: CommandRunner;

  constructor(runner: CommandRunner) {
    this.#runner = runner;
  }

  async announce(dev: string, address: string): Promise<void> {
    assertInterfaceName(dev);
    checkIp(address);
    const once = () =>
      this.#runner.run(['arping', '-q', '-U', '-c', '1', '-w', '1', '-I', dev, address], {
        allowNonZeroExit: true,
        timeoutMs: 5_000,
      });
    const first = once();
    await new Promise((r) => setTimeout(r, 50));
    await Promise.all([first, once()]);
  }
}
