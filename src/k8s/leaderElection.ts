// Leader election on a coordination.k8s.io Lease, with client-go's semantics: a lease is
// expired when its record has not changed for leaseDuration by OUR clock (no trust in remote
// timestamps, so clock skew cannot cause two leaders); the leader renews every retryPeriod and
// steps down when it could not renew for renewDeadline; a graceful stop releases the lease so a
// standby takes over at once.
import { hostname } from 'node:os';
import { brokerPaths, itemPath } from './paths.ts';
import { isConflict, isNotFound, type KubeRestClient } from './rest.ts';

export interface LeaderElectionConfig {
  client: KubeRestClient;
  namespace: string;
  name: string;
  identity?: string;
  leaseDurationS: number;
  renewDeadlineS: number;
  retryPeriodS: number;
  onStartedLeading: () => void;
  onStoppedLeading: () => void;
  log: (line: string) => void;
}

interface LeaseObject {
  metadata: { name: string; resourceVersion?: string };
  spec?: {
    holderIdentity?: string;
    leaseDurationSeconds?: number;
    acquireTime?: string;
    renewTime?: string;
    leaseTransitions?: number;
  };
}

const microTime = (ms: number) => new Date(ms).toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');

export class LeaderElector {
  readonly identity: string;
  private readonly c: LeaderElectionConfig;
  private leading = false;
  private observedKey = '';
  private observedAt = 0;
  private lastRenew = 0;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(config: LeaderElectionConfig) {
    this.c = config;
    this.identity = config.identity ?? `${hostname()}-moor-gateway`;
  }

  get isLeader(): boolean {
    return this.leading;
  }

  start(): void {
    void this.tick();
  }

  /** Stop campaigning; release the lease if we hold it. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    if (this.leading) {
      this.leading = false;
      try {
        const lease = await this.c.client.get<LeaseObject>(this.path());
        if (lease.spec?.holderIdentity === this.identity) {
          await this.c.client.replace(this.path(), {
            ...lease,
            spec: { ...lease.spec, holderIdentity: '', leaseDurationSeconds: 1 },
          });
        }
      } catch (err) {
        this.c.log(`could not release lease: ${err instanceof Error ? err.message : String(err)}`);
      }
    }
  }

  private path(): string {
    return itemPath(brokerPaths.leases(this.c.namespace), this.c.name);
  }

  private async tick(): Promise<void> {
    if (this.stopped) return;
    const now = Date.now();
    let ok = false;
    try {
      ok = await this.tryAcquireOrRenew(now);
    } catch (err) {
      this.c.log(
        `lease ${this.c.namespace}/${this.c.name}: ${err instanceof Error ? err.message : String(err)}`,
      );
    }
    if (this.stopped) return;
    if (ok) {
      this.lastRenew = now;
      if (!this.leading) {
        this.leading = true;
        this.c.log(`became leader (lease ${this.c.namespace}/${this.c.name})`);
        this.c.onStartedLeading();
      }
    } else if (this.leading && Date.now() - this.lastRenew > this.c.renewDeadlineS * 1000) {
      this.leading = false;
      this.c.log(`lost leadership: could not renew within ${this.c.renewDeadlineS} s`);
      this.c.onStoppedLeading();
    }
    this.timer = setTimeout(() => void this.tick(), this.c.retryPeriodS * 1000);
  }

  private async tryAcquireOrRenew(now: number): Promise<boolean> {
    const { client } = this.c;
    let lease: LeaseObject | undefined;
    try {
      lease = await client.get<LeaseObject>(this.path());
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
    const spec = {
      holderIdentity: this.identity,
      leaseDurationSeconds: this.c.leaseDurationS,
      acquireTime: microTime(now),
      renewTime: microTime(now),
      leaseTransitions: 0,
    };
    if (!lease) {
      try {
        await client.create(brokerPaths.leases(this.c.namespace), {
          apiVersion: 'coordination.k8s.io/v1',
          kind: 'Lease',
          metadata: { name: this.c.name },
          spec,
        });
        return true;
      } catch (err) {
        if (isConflict(err)) return false;
        throw err;
      }
    }
    const s = lease.spec ?? {};
    const key = `${s.holderIdentity ?? ''}|${s.renewTime ?? ''}`;
    if (key !== this.observedKey) {
      this.observedKey = key;
      this.observedAt = now;
    }
    const holder = s.holderIdentity ?? '';
    const duration = (s.leaseDurationSeconds ?? this.c.leaseDurationS) * 1000;
    const expired = holder === '' || this.observedAt + duration < now;
    if (holder !== this.identity && !expired) return false;
    const next =
      holder === this.identity
        ? { ...s, renewTime: microTime(now), leaseDurationSeconds: this.c.leaseDurationS }
        : { ...spec, leaseTransitions: (s.leaseTransitions ?? 0) + 1 };
    try {
      await client.replace(this.path(), { ...lease, spec: next });
      return true;
    } catch (err) {
      if (isConflict(err)) return false;
      throw err;
    }
  }
}
