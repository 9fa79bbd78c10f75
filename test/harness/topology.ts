// Declarative network topologies of namespaces. A spec names hosts, point-to-point links, shared
// LAN segments (a bridge in a switch namespace), routes and NAT; `buildTopology` creates them
// inside a TestRun, which removes all of it at cleanup. The root namespace never routes test
// subnets: every address and route lives inside a namespace of the run.
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type ExecOptions, type ExecResult, exec } from './exec.ts';
import { type ProcessOptions, type RunningProcess, startProcess } from './process.ts';
import { NETNS_ETC, type TestRun } from './run.ts';

export interface HostSpec {
  /** Forward IPv4 between interfaces (routers, gateways). */
  forwarding?: boolean;
}

export interface LinkEnd {
  host: string;
  /** Address with prefix, e.g. "10.99.1.2/24". Omit for an unnumbered end. */
  address?: string;
  /** Interface name inside the host (default "to-<peer host>"). */
  ifname?: string;
}

export interface LinkSpec {
  a: LinkEnd;
  b: LinkEnd;
  mtu?: number;
}

export interface LanSpec {
  name: string;
  members: Array<{ host: string; address: string; ifname?: string }>;
  mtu?: number;
}

export interface RouteSpec {
  host: string;
  /** CIDR or "default". */
  to: string;
  via?: string;
  dev?: string;
}

export interface NatSpec {
  /** The router that masquerades. */
  host: string;
  /** Traffic from this CIDR leaving `outIfname` gets the router's address. */
  source: string;
  outIfname: string;
}

export interface TopologySpec {
  hosts: Record<string, HostSpec>;
  links?: LinkSpec[];
  lans?: LanSpec[];
  routes?: RouteSpec[];
  nat?: NatSpec[];
}

export class Host {
  readonly name: string;
  readonly ns: string;
  private readonly run: TestRun;

  constructor(run: TestRun, name: string) {
    this.run = run;
    this.name = name;
    this.ns = run.nsName(name);
  }

  exec(argv: string[], options: Omit<ExecOptions, 'ns'> = {}): Promise<ExecResult> {
    return exec(argv, { ...options, ns: this.ns });
  }

  spawn(name: string, argv: string[], options: Omit<ProcessOptions, 'ns'> = {}): RunningProcess {
    return startProcess(this.run, `${this.name}-${name}`, argv, { ...options, ns: this.ns });
  }

  /**
   * Give this host its own /etc/resolv.conf: `ip netns exec` bind-mounts /etc/netns/<ns>/resolv.conf
   * over it for every command and process of the host. Removed at cleanup (also by the id sweep).
   */
  setResolvConf(text: string): void {
    const dir = join(NETNS_ETC, this.ns);
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'resolv.conf'), text);
    this.run.defer(() => rmSync(dir, { recursive: true, force: true }));
  }

  /** True when one ICMP echo to `address` is answered within `timeoutS`. */
  async ping(address: string, timeoutS = 2): Promise<boolean> {
    const r = await this.exec(['ping', '-n', '-q', '-c', '1', '-W', String(timeoutS), address], {
      allowFail: true,
    });
    return r.code === 0;
  }
}

export class Topology {
  readonly hosts = new Map<string, Host>();

  host(name: string): Host {
    const h = this.hosts.get(name);
    if (!h) throw new Error(`topology has no host "${name}" (hosts: ${[...this.hosts.keys()].join(', ')})`);
    return h;
  }
}

const sh = (argv: string[], ns?: string) => exec(argv, ns === undefined ? {} : { ns });

export async function buildTopology(run: TestRun, spec: TopologySpec): Promise<Topology> {
  const topo = new Topology();
  const addHost = async (name: string, forwarding: boolean) => {
    const host = new Host(run, name);
    await sh(['ip', 'netns', 'add', host.ns]);
    run.defer(() => void sh(['ip', 'netns', 'del', host.ns]).catch(() => undefined));
    topo.hosts.set(name, host);
    await sh(['ip', 'link', 'set', 'lo', 'up'], host.ns);
    await sh(['sysctl', '-q', '-w', `net.ipv4.ip_forward=${forwarding ? 1 : 0}`], host.ns);
    // Test hosts answer for their own addresses only on the interface that owns them.
    await sh(['sysctl', '-q', '-w', 'net.ipv4.conf.all.rp_filter=0'], host.ns);
    await sh(['sysctl', '-q', '-w', 'net.ipv4.conf.default.rp_filter=0'], host.ns);
  };
  for (const [name, hostSpec] of Object.entries(spec.hosts))
    await addHost(name, hostSpec.forwarding ?? false);

  const plug = async (
    end: { host: string; address?: string; ifname: string },
    tmpName: string,
    mtu?: number,
  ) => {
    const host = topo.host(end.host);
    await sh(['ip', 'link', 'set', tmpName, 'netns', host.ns]);
    await sh(['ip', 'link', 'set', tmpName, 'name', end.ifname], host.ns);
    if (mtu) await sh(['ip', 'link', 'set', end.ifname, 'mtu', String(mtu)], host.ns);
    if (end.address) await sh(['ip', 'addr', 'add', end.address, 'dev', end.ifname], host.ns);
    await sh(['ip', 'link', 'set', end.ifname, 'up'], host.ns);
  };

  for (const link of spec.links ?? []) {
    const a = run.ifName('v');
    const b = run.ifName('v');
    await sh(['ip', 'link', 'add', a, 'type', 'veth', 'peer', 'name', b]);
    await plug({ ...link.a, ifname: link.a.ifname ?? ifnameTo(link.b.host) }, a, link.mtu);
    await plug({ ...link.b, ifname: link.b.ifname ?? ifnameTo(link.a.host) }, b, link.mtu);
  }

  for (const lan of spec.lans ?? []) {
    const switchName = `sw-${lan.name}`;
    await addHost(switchName, false);
    const sw = topo.host(switchName);
    await sh(['ip', 'link', 'add', 'br0', 'type', 'bridge'], sw.ns);
    await sh(['ip', 'link', 'set', 'br0', 'up'], sw.ns);
    for (const member of lan.members) {
      const inHost = run.ifName('v');
      const inSwitch = run.ifName('v');
      await sh(['ip', 'link', 'add', inHost, 'type', 'veth', 'peer', 'name', inSwitch]);
      await sh(['ip', 'link', 'set', inSwitch, 'netns', sw.ns]);
      if (lan.mtu) await sh(['ip', 'link', 'set', inSwitch, 'mtu', String(lan.mtu)], sw.ns);
      await sh(['ip', 'link', 'set', inSwitch, 'master', 'br0', 'up'], sw.ns);
      await plug(
        { host: member.host, address: member.address, ifname: member.ifname ?? ifnameTo(lan.name) },
        inHost,
        lan.mtu,
      );
    }
  }

  for (const route of spec.routes ?? []) {
    const argv = ['ip', 'route', 'replace', route.to];
    if (route.via) argv.push('via', route.via);
    if (route.dev) argv.push('dev', route.dev);
    await sh(argv, topo.host(route.host).ns);
  }

  for (const nat of spec.nat ?? []) {
    const rules = [
      'table ip moor-test-nat {',
      '  chain postrouting {',
      '    type nat hook postrouting priority srcnat; policy accept;',
      `    ip saddr ${nat.source} oifname "${nat.outIfname}" masquerade`,
      '  }',
      '}',
    ].join('\n');
    await exec(['nft', '-f', '-'], { ns: topo.host(nat.host).ns, input: rules });
  }
  return topo;
}

function ifnameTo(peer: string): string {
  return `to-${peer}`.slice(0, 15);
}
