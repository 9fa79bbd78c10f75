// The host's Lighthouse-compatible DNS service: watches the broker's ServiceImports and Lighthouse
// EndpointSlices, keeps the record index current, and serves it over UDP and TCP. The index is a
// pure function of (objects, connected clusters); this class only decides *when* to rebuild it:
// a short debounce after broker events (a relist or a burst of watch events becomes one rebuild,
// on the shared ReconcileLoop), and at once when the set of connected clusters really changes, so
// a cluster whose cable went down stops being handed out by the very next query. The objects of
// the last rebuild are saved as a snapshot: after a restart with the broker down, known names are
// answered from it until the broker has been listed again.
import type { AddressInfo } from 'node:net';
import type { Problem } from '../broker/lighthouseImports.ts';
import { LABEL_MANAGED_BY, MANAGED_BY_LIGHTHOUSE } from '../broker/lighthouseKeys.ts';
import { MoorError } from '../errors.ts';
import { brokerPaths } from '../k8s/paths.ts';
import { Reflector } from '../k8s/reflector.ts';
import type { KubeRestClient } from '../k8s/rest.ts';
import { type Clock, systemClock } from '../reconcile/clock.ts';
import { ReconcileLoop } from '../reconcile/loop.ts';
import { OutageReporter } from '../reconcile/outage.ts';
import { NO_CHANGE } from '../reconcile/outcome.ts';
import { isObjectLists, type SnapshotStore } from '../reconcile/snapshot.ts';
import { createAnswerer, type DnsAnswerer } from './answer.ts';
import type { EgressRecordIndex } from './egress-records.ts';
import { buildRecordIndex, type RecordIndex } from './records.ts';
import { type DnsForwarder, type DnsServer, type DnsServerCounters, startDnsServer } from './server.ts';
import { StartupGate } from './startup-gate.ts';

export interface ClustersetDnsOptions {
  client: KubeRestClient;
  /** The broker namespace. */
  namespace: string;
  localClusterId: string;
  /** Zones served besides clusterset.local. */
  customDomains: string[];
  /** Port 0 picks a free port (tests); read it back with `address()`. */
  listen: { address: string; port: number };
  log: (line: string) => void;
  /** Record TTL, 0..3600 s; default 5 like Lighthouse. */
  ttl?: number;
  /** Delay between a broker event and the rebuild it causes; default 50 ms. */
  debounceMs?: number;
  /** Answers names outside our zones (default: REFUSED). */
  forwarder?: DnsForwarder;
  /** Saves the objects of every rebuild and serves them before the broker is listed. */
  snapshots?: SnapshotStore;
  clock?: Clock;
  /** Called once when the gate opens (the agent rewrites its status then, not at the next tick). */
  onReady?: () => void;
}

export interface ClustersetDnsStats {
  /** Both collections listed once; until then in-zone queries get SERVFAIL (see StartupGate). */
  ready: boolean;
  /** Set while the broker cannot be watched; answers then come from the last copy. */
  brokerError: string | null;
  /** Answers come from the saved snapshot (the broker has not been listed since the start). */
  fromSnapshot: string | null;
  services: number;
  /** Names with precomputed answers. */
  names: number;
  problems: number;
  rebuilds: number;
  servfailsBeforeReady: number;
  connectedClusters: string[];
  lastRebuildAt: string | null;
  /** UDP/TCP server counters; null while not started. */
  server: Readonly<DnsServerCounters> | null;
}

const SLICE_SELECTOR = `${LABEL_MANAGED_BY}=${MANAGED_BY_LIGHTHOUSE}`;

export class ClustersetDns {
  private readonly options: ClustersetDnsOptions;
  private readonly imports: Reflector;
  private readonly slices: Reflector;
  private readonly answerer: DnsAnswerer;
  private readonly gate: StartupGate;
  private index: RecordIndex | undefined;
  /** Remote clusters with a working cable; starts empty: nothing remote is handed out before the
   * agent has seen a cable come up (the local cluster always counts as connected). */
  private connected: ReadonlySet<string> = new Set();
  private currentProblems: readonly Problem[] = [];
  /** Problems already logged: each is logged once while it persists, and again if it returns. */
  private loggedProblems = new Set<string>();
  private server: DnsServer | undefined;
  private readonly loop: ReconcileLoop;
  private readonly outage: OutageReporter;
  /** savedAt of the snapshot the index was built from, while it is. */
  private snapshotServed: string | null = null;
  private started = false;
  private stopped = false;
  private rebuilds = 0;
  private lastRebuildAt: Date | null = null;

  constructor(options: ClustersetDnsOptions) {
    this.options = options;
    const empty = buildRecordIndex({
      serviceImports: [],
      endpointSlices: [],
      localClusterId: options.localClusterId,
      connectedClusters: [],
    }).index;
    // Validates ttl and customDomains now, so bad configuration fails before anything starts.
    this.answerer = createAnswerer(empty, {
      customDomains: options.customDomains,
      ...(options.ttl === undefined ? {} : { ttl: options.ttl }),
    });
    this.gate = new StartupGate(this.answerer);
    const clock = options.clock ?? systemClock;
    this.loop = new ReconcileLoop({
      name: 'dns',
      clock,
      log: options.log,
      debounceMs: options.debounceMs ?? 50,
      reconcile: async () => {
        this.rebuild();
        return NO_CHANGE;
      },
    });
    this.outage = new OutageReporter({ what: 'DNS broker watch: broker', clock, log: options.log });
    const onChange = () => {
      this.outage.recovered();
      this.loop.markDirty('broker');
    };
    const onError = (err: Error) => this.outage.failed(err.message);
    this.imports = new Reflector({
      client: options.client,
      path: brokerPaths.serviceImports(options.namespace),
      onChange,
      onError,
    });
    this.slices = new Reflector({
      client: options.client,
      path: brokerPaths.endpointSlices(options.namespace),
      labelSelector: SLICE_SELECTOR,
      onChange,
      onError,
    });
  }

  /** Binds UDP and TCP (throws a MoorError when it cannot), then starts watching the broker. */
  async start(): Promise<void> {
    if (this.started) return;
    const { address, port } = this.options.listen;
    // Marked started only once bound: a failed bind (address not up yet, port taken) must fail
    // again on the next try, never pass as "listening" without a server.
    this.server = await startDnsServer({
      address,
      port,
      answerer: this.gate,
      log: (event, fields) => this.options.log(`${event} ${JSON.stringify(fields)}`),
      ...(this.options.forwarder ? { forwarder: this.options.forwarder } : {}),
    });
    this.started = true;
    const bound = this.server.address();
    this.options.log(`DNS: listening on ${bound.address}:${bound.port} (udp+tcp)`);
    this.serveSnapshot();
    this.imports.start();
    this.slices.start();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.loop.stop();
    await Promise.all([this.imports.stop(), this.slices.stop()]);
    await this.server?.close();
    this.server = undefined;
  }

  /** Where the server listens (the real port when `listen.port` was 0). */
  address(): AddressInfo | null {
    return this.server?.address() ?? null;
  }

  /** Resolves once both collections are listed and the first index is live. */
  async waitUntilReady(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!this.gate.ready) {
      if (Date.now() > deadline) {
        throw (
          this.imports.lastError ??
          this.slices.lastError ??
          new MoorError('broker-unreachable', `no broker lists for DNS within ${timeoutMs} ms`, {
            hint: 'check that the broker API server answers and the credential may list serviceimports',
          })
        );
      }
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  /** The remote clusters with a connected cable; called by the agent on every status change. */
  setConnectedClusters(ids: Iterable<string>): void {
    const next = new Set(ids);
    if (next.size === this.connected.size && [...next].every((id) => this.connected.has(id))) return;
    this.connected = next;
    // Immediately, not debounced: a query after this call must not get a disconnected cluster.
    if (this.gate.ready) this.rebuild();
  }

  /** Egress names and PTRs of the clusterset (egress-feed.ts); served before the Lighthouse names. */
  updateEgress(index: EgressRecordIndex): void {
    this.answerer.updateEgress(index);
  }

  /** Broker objects that are skipped, with the reason. */
  problems(): readonly Problem[] {
    return this.currentProblems;
  }

  stats(): ClustersetDnsStats {
    const error = this.imports.lastError ?? this.slices.lastError;
    return {
      ready: this.gate.ready,
      brokerError: error ? error.message : null,
      fromSnapshot: this.snapshotServed,
      services: this.index?.services.size ?? 0,
      names: this.answerer.precomputedNames,
      problems: this.currentProblems.length,
      rebuilds: this.rebuilds,
      servfailsBeforeReady: this.gate.servfails,
      connectedClusters: [...this.connected].sort(),
      lastRebuildAt: this.lastRebuildAt?.toISOString() ?? null,
      server: this.server?.counters ?? null,
    };
  }

  /** Before the broker is listed: answer known names from the saved objects, if there are any. */
  private serveSnapshot(): void {
    const saved = this.options.snapshots?.load('dns', isObjectLists('serviceImports', 'endpointSlices'));
    if (!saved || this.gate.ready) return;
    this.snapshotObjects = saved.data;
    this.snapshotServed = saved.savedAt;
    this.rebuild();
    this.options.log(`DNS: the broker is not listed yet; answering from the snapshot of ${saved.savedAt}`);
  }
  private snapshotObjects: { serviceImports: unknown[]; endpointSlices: unknown[] } | undefined;

  private rebuild(): void {
    if (this.stopped) return;
    // Before both lists are in, an index would be half a picture (imports without their slices
    // answer NODATA): keep the gate closed and build nothing — unless a snapshot is served.
    const live = this.imports.synced && this.slices.synced;
    if (!live && !this.snapshotObjects) return;
    const objects: { serviceImports: unknown[]; endpointSlices: unknown[] } = live
      ? { serviceImports: this.imports.list(), endpointSlices: this.slices.list() }
      : (this.snapshotObjects ?? { serviceImports: [], endpointSlices: [] });
    if (live && this.snapshotObjects) {
      this.snapshotObjects = undefined;
      this.snapshotServed = null;
      this.options.log('DNS: the broker is listed again; answering from it');
    }
    const { index, problems } = buildRecordIndex(
      {
        ...objects,
        localClusterId: this.options.localClusterId,
        connectedClusters: this.connected,
      },
      this.index,
    );
    if (live) {
      try {
        this.options.snapshots?.save('dns', objects, new Date());
      } catch (err) {
        this.options.log(
          `DNS: cannot save the snapshot: ${err instanceof Error ? err.message : String(err)}`,
        );
      }
    }
    this.index = index;
    this.answerer.update(index);
    this.rebuilds += 1;
    this.lastRebuildAt = new Date();
    this.reportProblems(problems);
    if (!this.gate.ready) {
      this.gate.open();
      this.options.log(
        `DNS: answering from the ${live ? 'broker' : 'snapshot'}: ${index.services.size} services, ${this.answerer.precomputedNames} names`,
      );
      this.options.onReady?.();
    }
  }

  private reportProblems(problems: readonly Problem[]): void {
    this.currentProblems = problems;
    const current = new Set<string>();
    for (const p of problems) {
      const line = `${p.kind} ${p.namespace}/${p.name}: ${p.reason}`;
      current.add(line);
      if (!this.loggedProblems.has(line)) this.options.log(`DNS: skipping broker object: ${line}`);
    }
    this.loggedProblems = current;
  }
}
