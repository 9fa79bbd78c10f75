// Watches the broker's Endpoints from the benchmark runner and stamps every event on arrival, so
// "the new gateway's Endpoint appeared" has millisecond resolution (creationTimestamp has 1 s).
// The watch restarts at once when the server ends it: API servers that share one etcd under
// different prefixes (the two-cluster harness) answer a fresh watch with "Too large resource
// version" until their watch cache catches up with the other servers' writes.
import { type KubeConfig, Watch } from '@kubernetes/client-node';

export interface EndpointEvent {
  at: number;
  type: string;
  name: string;
  clusterId: string;
  hostname: string;
  publicKey: string;
}

type EndpointObject = {
  metadata?: { name?: string; labels?: Record<string, string> };
  spec?: { hostname?: string; cluster_id?: string; backend_config?: { publicKey?: string } };
};

export class EndpointWatch {
  readonly events: EndpointEvent[] = [];
  /** How often the server ended the watch (each restart replays current objects as ADDED). */
  restarts = 0;
  lastError = '';
  private abort: AbortController | undefined;
  private waiters: Array<() => void> = [];
  private stopped = false;
  private readonly kc: KubeConfig;
  private readonly path: string;

  private constructor(kc: KubeConfig, namespace: string) {
    this.kc = kc;
    this.path = `/apis/submariner.io/v1/namespaces/${namespace}/endpoints`;
  }

  static async start(kc: KubeConfig, namespace: string): Promise<EndpointWatch> {
    const w = new EndpointWatch(kc, namespace);
    await w.connect();
    return w;
  }

  private async connect(): Promise<void> {
    if (this.stopped) return;
    const again = () => {
      if (this.stopped) return;
      this.restarts++;
      setTimeout(() => void this.connect().catch((err: unknown) => (this.lastError = String(err))), 100);
    };
    let ended = false;
    const end = () => {
      if (ended) return;
      ended = true;
      this.abort?.abort();
      again();
    };
    this.abort = await new Watch(this.kc).watch(
      this.path,
      {},
      (type: string, obj: EndpointObject) => {
        if (type === 'ERROR') {
          this.lastError = JSON.stringify(obj);
          end();
          return;
        }
        this.events.push({
          at: Date.now(),
          type,
          name: obj.metadata?.name ?? '',
          clusterId: obj.spec?.cluster_id ?? obj.metadata?.labels?.['submariner-io/clusterID'] ?? '',
          hostname: obj.spec?.hostname ?? '',
          publicKey: obj.spec?.backend_config?.publicKey ?? '',
        });
        for (const waiter of this.waiters) waiter();
      },
      () => end(),
    );
  }

  /** Names of the Endpoints that existed at `at`, by the events seen before it. */
  presentAt(at: number): Set<string> {
    const present = new Set<string>();
    for (const e of this.events) {
      if (e.at >= at) break;
      if (e.type === 'DELETED') present.delete(e.name);
      else present.add(e.name);
    }
    return present;
  }

  /** The first sighting, at or after `since`, of an Endpoint that `match` accepts and that did
   * not exist at `since` (a restarted watch replays existing objects as ADDED). */
  waitFor(match: (e: EndpointEvent) => boolean, since: number, timeoutMs: number): Promise<EndpointEvent> {
    return new Promise((resolve, reject) => {
      const check = () => {
        const known = this.presentAt(since);
        const hit = this.events.find(
          (e) => e.at >= since && e.type !== 'DELETED' && !known.has(e.name) && match(e),
        );
        if (!hit) return;
        done();
        resolve(hit);
      };
      const timer = setTimeout(() => {
        done();
        const seen = this.events.map((e) => `${e.type} ${e.name} (${e.hostname})`).join(', ');
        reject(
          new Error(
            `no matching Endpoint event within ${timeoutMs} ms; seen: ${seen || 'none'}; last watch error: ${this.lastError || 'none'}`,
          ),
        );
      }, timeoutMs);
      const done = () => {
        clearTimeout(timer);
        this.waiters = this.waiters.filter((w) => w !== check);
      };
      this.waiters.push(check);
      check();
    });
  }

  stop(): void {
    this.stopped = true;
    this.abort?.abort();
  }
}
