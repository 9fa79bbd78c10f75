// The controller's in-cluster DNS answer for egress names and PTRs, on the shared UDP/TCP server
// and answerer (egress index only: everything else is REFUSED, Lighthouse answers the service
// names). It reads the mapping through MappingView and the EgressPolicies and EgressGateways
// through its own reflectors, never the leader's state, so every replica (standby too) answers
// the same. Watches only mark the loop dirty; one debounced rebuild (buildClusterEgressRecords, pure)
// swaps the index in. Until all three collections are listed, names in the zone get SERVFAIL
// (StartupGate: "do not know yet", not "does not exist"); during an API outage the last copy
// is served.
import type { AddressInfo } from 'node:net';
import type { MappingView } from '../acl/mapping-view.ts';
import type { Problem } from '../acl/store.ts';
import { MoorError } from '../errors.ts';
import { egressPaths } from '../k8s/egress-paths.ts';
import { Reflector, type ReflectorClient } from '../k8s/reflector.ts';
import { readGateway, readPolicy } from '../plan/egress-read.ts';
import type { GatewayInput, PolicyInput } from '../plan/egress-types.ts';
import { type Clock, systemClock } from '../reconcile/clock.ts';
import { type ReconcileCounters, ReconcileLoop } from '../reconcile/loop.ts';
import { OutageReporter } from '../reconcile/outage.ts';
import { NO_CHANGE, waiting } from '../reconcile/outcome.ts';
import { createAnswerer, type DnsAnswerer } from './answer.ts';
import { buildClusterEgressRecords } from './cluster-egress-records.ts';
import { type DnsServer, type DnsServerCounters, startDnsServer } from './server.ts';
import { StartupGate } from './startup-gate.ts';

/** Short: a pod that moves to another egress IP shows up under its new name within seconds. */
export const EGRESS_DNS_TTL_SECONDS = 5;

export interface EgressDnsOptions {
  client: ReflectorClient;
  /** The process's live mapping reader (shared with the other in-process consumers). */
  mapping: MappingView;
  clusterId: string;
  /** Port 0 picks a free port (tests); read it back with `address()`. */
  listen: { address: string; port: number };
  log: (line: string) => void;
  ttl?: number;
  /** Delay between a change and the rebuild it causes; default 50 ms. */
  debounceMs?: number;
  clock?: Clock;
}

export interface EgressDnsStats {
  ready: boolean;
  forwardNames: number;
  reverseNames: number;
  problems: number;
  rebuilds: number;
  server: Readonly<DnsServerCounters> | null;
}

export class EgressDns {
  readonly #o: EgressDnsOptions;
  readonly #answerer: DnsAnswerer;
  readonly #gate: StartupGate;
  readonly #gateways: Reflector;
  readonly #policies: Reflector;
  readonly #loop: ReconcileLoop;
  readonly #unsubscribe: () => void;
  #server: DnsServer | undefined;
  #forwardNames = 0;
  #reverseNames = 0;
  #problems: Problem[] = [];
  #logged = new Set<string>();
  #rebuilds = 0;

  constructor(o: EgressDnsOptions) {
    this.#o = o;
    // Validates the TTL now, so bad configuration fails before anything listens.
    this.#answerer = createAnswerer(
      { localClusterId: o.clusterId, connected: 'all', services: new Map() },
      { ttl: o.ttl ?? EGRESS_DNS_TTL_SECONDS, serviceNames: false },
    );
    this.#gate = new StartupGate(this.#answerer);
    const clock = o.clock ?? systemClock;
    this.#loop = new ReconcileLoop({
      name: 'egress-dns',
      clock,
      log: o.log,
      debounceMs: o.debounceMs ?? 50,
      reconcile: async () => this.#rebuild(),
    });
    const outage = new OutageReporter({ what: 'egress DNS watch: API server', clock, log: o.log });
    const onChange = (what: string) => () => {
      outage.recovered();
      this.#loop.markDirty(what);
    };
    const onError = (err: Error) => outage.failed(err.message);
    this.#gateways = new Reflector({
      client: o.client,
      path: egressPaths.gateways,
      onChange: onChange('gateways'),
      onError,
      clock,
    });
    this.#policies = new Reflector({
      client: o.client,
      path: egressPaths.policies,
      onChange: onChange('policies'),
      onError,
      clock,
    });
    this.#unsubscribe = o.mapping.onChange(onChange('mapping'));
  }

  /** Binds UDP and TCP (a MoorError when it cannot), then starts watching. */
  async start(): Promise<void> {
    this.#server = await startDnsServer({
      address: this.#o.listen.address,
      port: this.#o.listen.port,
      answerer: this.#gate,
      log: (event, fields) => this.#o.log(`${event} ${JSON.stringify(fields)}`),
    });
    const bound = this.#server.address();
    this.#o.log(`egress DNS: listening on ${bound.address}:${bound.port} (udp+tcp)`);
    this.#gateways.start();
    this.#policies.start();
    this.#loop.start();
  }

  async stop(): Promise<void> {
    this.#unsubscribe();
    await this.#loop.stop();
    await Promise.all([this.#gateways.stop(), this.#policies.stop()]);
    await this.#server?.close();
    this.#server = undefined;
  }

  address(): AddressInfo | null {
    return this.#server?.address() ?? null;
  }

  /** Resolves after the first rebuild from fully listed collections. */
  async waitUntilReady(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!this.#gate.ready) {
      if (Date.now() > deadline)
        throw (
          this.#o.mapping.lastError ??
          this.#policies.lastError ??
          this.#gateways.lastError ??
          new MoorError('broker-unreachable', `egress DNS: nothing listed within ${timeoutMs} ms`, {
            hint: 'check that the API server answers and the credential may list egressmapslices, egresspolicies and egressgateways',
          })
        );
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  /** The rebuild loop's runs and errors by phase (for `--metrics-address`). */
  get reconcileCounters(): ReconcileCounters {
    return this.#loop.counters;
  }

  problems(): readonly Problem[] {
    return this.#problems;
  }

  stats(): EgressDnsStats {
    return {
      ready: this.#gate.ready,
      forwardNames: this.#forwardNames,
      reverseNames: this.#reverseNames,
      problems: this.#problems.length,
      rebuilds: this.#rebuilds,
      server: this.#server?.counters ?? null,
    };
  }

  async #rebuild() {
    const snapshot = this.#o.mapping.read();
    if (!snapshot || !this.#gateways.synced || !this.#policies.synced)
      return waiting('the mapping, the policies and the gateways are not listed yet');
    const policies: PolicyInput[] = [];
    const gateways: GatewayInput[] = [];
    for (const o of this.#policies.list()) {
      const r = readPolicy(o);
      if (r.ok) policies.push(r.value);
    }
    for (const o of this.#gateways.list()) {
      const r = readGateway(o);
      if (r.ok) gateways.push(r.value);
    }
    const feed = buildClusterEgressRecords({
      cluster: this.#o.clusterId,
      rows: snapshot.rows,
      policies,
      gateways,
    });
    this.#answerer.updateEgress(feed.index);
    this.#forwardNames = feed.index.forward.size;
    this.#reverseNames = feed.index.reverse.size;
    this.#rebuilds++;
    this.#report([...snapshot.problems, ...feed.problems]);
    if (!this.#gate.ready) {
      this.#gate.open();
      this.#o.log(
        `egress DNS: answering for cluster ${this.#o.clusterId}: ${this.#forwardNames} names, ${this.#reverseNames} egress IPs`,
      );
    }
    return NO_CHANGE;
  }

  /** Each problem is logged once while it persists, and again should it come back. */
  #report(problems: Problem[]): void {
    this.#problems = problems;
    const current = new Set<string>();
    for (const p of problems) {
      const line = `${p.object}: ${p.problem}`;
      current.add(line);
      if (!this.#logged.has(line)) this.#o.log(`egress DNS: no record for ${line}`);
    }
    this.#logged = current;
  }
}
