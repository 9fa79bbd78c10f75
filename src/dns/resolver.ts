// Routing the clusterset zones from the host's own resolver to moor's DNS server, without ever
// changing how any other name resolves. `apply()` detects the resolver (src/dataplane/resolver) and
// configures it; `ensure()` is cheap and idempotent, for every agent reconcile; `remove()` undoes
// exactly what was done. What was done is recorded in the state directory *before* the host is
// touched, so a crash half-way still leaves `remove()` (run by `moor leave`) something to undo.
import { readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { join } from 'node:path';
import type { CommandRunner } from '../dataplane/exec.ts';
import {
  type DnsServerAddress,
  DROPIN_NAME,
  type DropinResolver,
  type HostResolverPort,
  type ResolverDetection,
  type ResolverKind,
  SystemHostResolver,
} from '../dataplane/resolver/index.ts';
import { MoorError } from '../errors.ts';
import { DEFAULT_ZONE } from './constants.ts';
import { normalizeZones } from './names.ts';
import { renderDnsmasqDropin, renderUnboundDropin } from './resolver-dropins.ts';
import { manualInstructions } from './resolver-instructions.ts';

export type { DnsServerAddress, ResolverDetection, ResolverKind } from '../dataplane/resolver/index.ts';

export interface HostResolverOptions {
  runner: CommandRunner;
  /** moor's state directory; the record of what was done lives there. */
  stateDir: string;
  /** The moor link (systemd-resolved settings are per link). */
  interfaceName: string;
  /** Where ClustersetDns listens; a port other than 53 is written into the resolver config. */
  server: DnsServerAddress;
  customDomains: readonly string[];
  log: (line: string) => void;
  /** Every file path is taken under this directory; '/' (the default) on a real host. */
  root?: string;
  /** The host's resolver; by default the real one under `root`, run through `runner`. */
  host?: HostResolverPort;
}

export interface ResolverOutcome {
  readonly kind: ResolverKind;
  /** This call changed something on the host. */
  readonly changed: boolean;
  /** One line for the log and `moor status`. */
  readonly summary: string;
  /** Commands run and files written, in order. */
  readonly applied: readonly string[];
  readonly warnings: readonly string[];
  /** What the operator has to do by hand; '' when nothing. */
  readonly instructions: string;
}

interface ResolverRecord {
  version: 1;
  kind: ResolverKind;
  /** systemd-resolved: the link we configured. */
  interfaceName?: string;
  /** dnsmasq/unbound: our drop-in (a host path). */
  file?: string;
  /** Why this integration (shown with the manual instructions). */
  reason: string;
}

export const RECORD_FILE = 'dns-resolver.json';

export class HostResolverIntegration {
  private readonly options: HostResolverOptions;
  private readonly host: HostResolverPort;
  /** clusterset.local first, then the custom domains, normalized. */
  readonly zones: readonly string[];
  private queue: Promise<unknown> = Promise.resolve();

  constructor(options: HostResolverOptions) {
    const { address, port } = options.server;
    if (isIP(address) === 0 || address === '0.0.0.0' || address === '::') {
      throw new MoorError('invalid-argument', `DNS server address ${JSON.stringify(address)} is not usable`, {
        hint: 'give the unicast address the DNS server listens on, not a wildcard',
      });
    }
    if (!Number.isInteger(port) || port < 1 || port > 65535) {
      throw new MoorError('invalid-argument', `DNS server port ${port} is out of range`, {
        hint: 'use 1..65535',
      });
    }
    normalizeZones(options.customDomains); // throws a MoorError on an invalid domain
    const custom = options.customDomains.map((d) => d.trim().toLowerCase().replace(/\.$/, ''));
    this.zones = [...new Set([DEFAULT_ZONE, ...custom])];
    this.options = options;
    this.host = options.host ?? new SystemHostResolver({ runner: options.runner, root: options.root ?? '/' });
  }

  detect(): Promise<ResolverDetection> {
    return this.host.detect();
  }

  /** Detects the resolver and configures it; switches integration when the host changed. */
  apply(): Promise<ResolverOutcome> {
    return this.serialized(() => this.detectAndApply());
  }

  /** Re-asserts what `apply()` set up (e.g. after the link was re-created); reads before it writes. */
  ensure(): Promise<ResolverOutcome> {
    return this.serialized(() => {
      const record = this.readRecord();
      return record ? this.enforce(record, []) : this.detectAndApply();
    });
  }

  /** Undoes what was applied (nothing when nothing was); returns what was undone. */
  remove(): Promise<string[]> {
    return this.serialized(async () => {
      const record = this.readRecord();
      if (!record) return [];
      const undone = await this.undo(record);
      rmSync(this.recordPath(), { force: true });
      return undone;
    });
  }

  /** What `moor status` shows, from the record alone (no commands run); null before any apply. */
  status(): { kind: ResolverKind; reason: string; instructions: string } | null {
    const record = this.readRecord();
    if (!record) return null;
    const instructions = record.kind === 'manual' ? this.instructions(record.reason) : '';
    return { kind: record.kind, reason: record.reason, instructions };
  }

  instructions(reason: string): string {
    const { server, interfaceName } = this.options;
    return manualInstructions({ server, zones: this.zones, interfaceName, reason });
  }

  private async detectAndApply(): Promise<ResolverOutcome> {
    const detection = await this.host.detect();
    const wanted = this.recordFor(detection);
    const previous = this.readRecord();
    const undone: string[] = [];
    if (previous && !sameTarget(previous, wanted)) {
      undone.push(...(await this.undo(previous)));
      this.options.log(`DNS: host resolver changed from ${previous.kind} to ${wanted.kind}`);
    }
    if (!previous || !sameTarget(previous, wanted) || previous.reason !== wanted.reason)
      this.writeRecord(wanted);
    const outcome = await this.enforce(wanted, detection.warnings);
    const applied = [...undone, ...outcome.applied];
    return { ...outcome, applied, changed: applied.length > 0 };
  }

  private async enforce(record: ResolverRecord, warnings: readonly string[]): Promise<ResolverOutcome> {
    const zones = this.zones.join(', ');
    const server = `${this.options.server.address}:${this.options.server.port}`;
    const result = (
      summary: string,
      applied: readonly string[],
      extra: readonly string[],
      instructions = '',
    ) => ({
      kind: record.kind,
      changed: applied.length > 0,
      summary,
      applied,
      warnings: [...warnings, ...extra],
      instructions,
    });
    switch (record.kind) {
      case 'systemd-resolved': {
        const ifname = record.interfaceName ?? this.options.interfaceName;
        const link = await this.host.ensureResolvedLink(ifname, this.options.server, this.zones);
        if (link.linkMissing) return result(`systemd-resolved: waiting for link ${ifname}`, link.applied, []);
        return result(`systemd-resolved: ${zones} → ${server} on link ${ifname}`, link.applied, []);
      }
      case 'dnsmasq':
      case 'unbound': {
        const file = record.file ?? '';
        const dropin = await this.host.installDropin(record.kind, file, this.render(record.kind));
        const restartNeeded = record.kind === 'dnsmasq' && dropin.warnings.length > 0;
        return result(
          `${record.kind}: ${zones} → ${server} (${file})`,
          dropin.applied,
          dropin.warnings,
          restartNeeded ? `restart dnsmasq to load ${file}` : '',
        );
      }
      case 'manual':
        return result(`not configured: ${record.reason}`, [], [], this.instructions(record.reason));
    }
  }

  private async undo(record: ResolverRecord): Promise<string[]> {
    switch (record.kind) {
      case 'systemd-resolved': {
        const ifname = record.interfaceName ?? this.options.interfaceName;
        const reverted = await this.host.revertResolvedLink(ifname);
        return [
          reverted ? `resolvectl revert ${ifname}` : `link ${ifname} is gone, and its DNS settings with it`,
        ];
      }
      case 'dnsmasq':
      case 'unbound': {
        const file = record.file ?? '';
        return (await this.host.removeDropin(record.kind, file)) ? [`removed ${file}`] : [];
      }
      case 'manual':
        return [];
    }
  }

  private render(kind: DropinResolver): string {
    return kind === 'dnsmasq'
      ? renderDnsmasqDropin(this.options.server, this.zones)
      : renderUnboundDropin(this.options.server, this.zones);
  }

  private recordFor(detection: ResolverDetection): ResolverRecord {
    const base = { version: 1 as const, kind: detection.kind, reason: detection.reason };
    if (detection.kind === 'systemd-resolved') return { ...base, interfaceName: this.options.interfaceName };
    if (detection.confDir !== undefined) return { ...base, file: `${detection.confDir}/${DROPIN_NAME}` };
    return base;
  }

  private recordPath(): string {
    return join(this.options.stateDir, RECORD_FILE);
  }

  private readRecord(): ResolverRecord | null {
    try {
      const parsed = JSON.parse(readFileSync(this.recordPath(), 'utf8')) as Partial<ResolverRecord>;
      const kinds: readonly string[] = ['systemd-resolved', 'dnsmasq', 'unbound', 'manual'];
      if (parsed.version !== 1 || typeof parsed.kind !== 'string' || !kinds.includes(parsed.kind))
        return null;
      return { ...parsed, reason: parsed.reason ?? '' } as ResolverRecord;
    } catch {
      return null;
    }
  }

  private writeRecord(record: ResolverRecord): void {
    const path = this.recordPath();
    const tmp = `${path}.tmp-${process.pid}`;
    writeFileSync(tmp, `${JSON.stringify(record, null, 2)}\n`, { mode: 0o600 });
    renameSync(tmp, path);
  }

  /** apply/ensure/remove never overlap: the agent may call ensure while a leave removes. */
  private serialized<T>(step: () => Promise<T>): Promise<T> {
    const next = this.queue.then(step, step);
    this.queue = next.catch(() => undefined);
    return next;
  }
}

function sameTarget(a: ResolverRecord, b: ResolverRecord): boolean {
  return a.kind === b.kind && a.interfaceName === b.interfaceName && a.file === b.file;
}
