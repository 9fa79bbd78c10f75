// Strict fakes of the egress Basic ports: they keep state like the kernel would and refuse what
// the kernel refuses (a device that exists, a neighbour on a missing device).
import { MoorError } from '../../errors.ts';
import type {
  ArpAnnouncer,
  EgressLinkBasic,
  FdbEntry,
  Neighbour,
  SysctlBasic,
  VxlanObserved,
  VxlanSpec,
} from './types.ts';

export class FakeEgressLinks implements EgressLinkBasic {
  readonly devices = new Map<string, VxlanObserved>();
  readonly neighbours: Neighbour[] = [];
  readonly fdb: FdbEntry[] = [];
  readonly calls: string[] = [];

  async vxlanList(prefix: string): Promise<VxlanObserved[]> {
    return [...this.devices.values()].filter((d) => d.name.startsWith(prefix)).map((d) => ({ ...d }));
  }
  async vxlanCreate(spec: VxlanSpec): Promise<void> {
    this.calls.push(`create ${spec.name}`);
    if (this.devices.has(spec.name))
      throw new MoorError('system', `RTNETLINK answers: File exists (${spec.name})`);
    this.devices.set(spec.name, {
      name: spec.name,
      vni: spec.vni,
      port: spec.port,
      dev: spec.dev,
      remote: spec.remote,
      mac: spec.mac ?? '02:00:00:00:00:99',
      mtu: spec.mtu,
      learning: false,
      up: false,
    });
  }
  #dev(name: string): VxlanObserved {
    const d = this.devices.get(name);
    if (!d) throw new MoorError('not-found', `Cannot find device "${name}"`);
    return d;
  }
  async linkSetUp(name: string): Promise<void> {
    this.calls.push(`up ${name}`);
    this.#dev(name).up = true;
  }
  async linkSetMtu(name: string, mtu: number): Promise<void> {
    this.calls.push(`mtu ${name} ${mtu}`);
    this.#dev(name).mtu = mtu;
  }
  async linkDelete(name: string): Promise<void> {
    this.calls.push(`delete ${name}`);
    this.#dev(name);
    this.devices.delete(name);
    for (let i = this.neighbours.length - 1; i >= 0; i--)
      if (this.neighbours[i]?.dev === name) this.neighbours.splice(i, 1);
    for (let i = this.fdb.length - 1; i >= 0; i--) if (this.fdb[i]?.dev === name) this.fdb.splice(i, 1);
  }
  async neighList(dev: string): Promise<Neighbour[]> {
    return this.neighbours.filter((n) => n.dev === dev).map((n) => ({ ...n }));
  }
  async neighReplace(dev: string, address: string, mac: string): Promise<void> {
    this.calls.push(`neigh ${dev} ${address}`);
    this.#dev(dev);
    const i = this.neighbours.findIndex((n) => n.dev === dev && n.address === address);
    if (i >= 0) this.neighbours.splice(i, 1);
    this.neighbours.push({ dev, address, mac, permanent: true });
  }
  async fdbList(dev: string): Promise<FdbEntry[]> {
    return this.fdb.filter((e) => e.dev === dev).map((e) => ({ ...e }));
  }
  async fdbReplace(dev: string, mac: string, dst: string): Promise<void> {
    this.calls.push(`fdb ${dev} ${mac} ${dst}`);
    this.#dev(dev);
    const i = this.fdb.findIndex((e) => e.dev === dev && e.mac === mac);
    if (i >= 0) this.fdb.splice(i, 1);
    this.fdb.push({ dev, mac, dst, permanent: true });
  }
  async fdbDelete(dev: string, mac: string, dst: string): Promise<void> {
    this.calls.push(`fdb-del ${dev} ${mac} ${dst}`);
    const i = this.fdb.findIndex((e) => e.dev === dev && e.mac === mac && e.dst === dst);
    if (i < 0) throw new MoorError('not-found', `RTNETLINK answers: No such file or directory (${mac})`);
    this.fdb.splice(i, 1);
  }
}

export class FakeSysctl implements SysctlBasic {
  readonly values = new Map<string, string>();
  async read(key: string): Promise<string | undefined> {
    return this.values.get(key);
  }
  async write(key: string, value: string): Promise<void> {
    this.values.set(key, value);
  }
}

export class FakeAnnouncer implements ArpAnnouncer {
  readonly sent: string[] = [];
  async announce(dev: string, address: string): Promise<void> {
    this.sent.push(`${dev} ${address}`);
  }
}
