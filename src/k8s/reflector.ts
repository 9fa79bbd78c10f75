// Keeps a local copy of one collection on the API server: list, then watch from the list's
// resourceVersion; on a closed stream, watch again; on "410 Gone" or any error, back off and
// list again. The copy survives outages unchanged (stale, not empty), so a broker that goes away
// never tears down what is working. Every change calls `onChange`; consumers coalesce. Retries
// back off exponentially with jitter (so a fleet of agents does not hammer a recovering API
// server in step) and keep nothing per attempt: a week-long outage holds the same memory as a
// minute-long one.
import { MoorError } from '../errors.ts';
import { type Clock, sleep, systemClock } from '../reconcile/clock.ts';
import type { KubeRestClient, WatchEvent } from './rest.ts';

export type KubeObject = Record<string, unknown> & {
  metadata?: { name?: string; namespace?: string; resourceVersion?: string };
};

export interface ReflectorOptions {
  client: ReflectorClient;
  /** Collection path, e.g. /apis/submariner.io/v1/namespaces/x/endpoints */
  path: string;
  labelSelector?: string;
  onChange: () => void;
  onError?: (err: MoorError) => void;
  initialBackoffMs?: number;
  maxBackoffMs?: number;
  clock?: Clock;
  /** 0..1, default Math.random (tests make it deterministic). */
  random?: () => number;
}

/** The client surface a reflector needs (a fake in unit tests). */
export type ReflectorClient = Pick<KubeRestClient, 'get' | 'watch'>;

export class Reflector {
  private readonly options: ReflectorOptions;
  private readonly objects = new Map<string, KubeObject>();
  private abort: AbortController | undefined;
  private running: Promise<void> | undefined;
  private syncedOnce = false;
  private error: MoorError | undefined;
  restarts = 0;
  /** The delay before the latest retry (for tests and status). */
  lastBackoffMs = 0;

  constructor(options: ReflectorOptions) {
    this.options = options;
  }

  /** True once a list has succeeded; the copy may be stale while `lastError` is set. */
  get synced(): boolean {
    return this.syncedOnce;
  }

  get lastError(): MoorError | undefined {
    return this.error;
  }

  list(): KubeObject[] {
    return [...this.objects.values()];
  }

  start(): void {
    if (this.running) return;
    this.abort = new AbortController();
    this.running = this.loop(this.abort.signal);
  }

  async stop(): Promise<void> {
    this.abort?.abort();
    await this.running;
    this.running = undefined;
  }

  /** Resolves when the first list has succeeded (or rejects with its error after `timeoutMs`). */
  async waitForSync(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!this.syncedOnce) {
      if (Date.now() > deadline) {
        throw (
          this.error ??
          new MoorError('broker-unreachable', `no answer listing ${this.options.path} within ${timeoutMs} ms`)
        );
      }
      await sleep(systemClock, 50);
    }
  }

  private query(params: string[]): string {
    const all = this.options.labelSelector
      ? [...params, `labelSelector=${encodeURIComponent(this.options.labelSelector)}`]
      : params;
    return all.length === 0 ? this.options.path : `${this.options.path}?${all.join('&')}`;
  }

  private async loop(signal: AbortSignal): Promise<void> {
    const initial = this.options.initialBackoffMs ?? 500;
    const max = this.options.maxBackoffMs ?? 30_000;
    let backoff = initial;
    while (!signal.aborted) {
      try {
        let resourceVersion = await this.relist();
        this.error = undefined;
        backoff = initial;
        for (;;) {
          if (signal.aborted) return;
          let gone = false;
          // An event we cannot apply ends this watch with its error (thrown from the stream's
          // data handler it would crash the process); the outer loop backs off and relists.
          let failure: unknown;
          const watchAbort = new AbortController();
          const forward = () => watchAbort.abort();
          signal.addEventListener('abort', forward, { once: true });
          try {
            await this.options.client.watch(
              this.query([
                'watch=1',
                'allowWatchBookmarks=true',
                'timeoutSeconds=290',
                `resourceVersion=${resourceVersion}`,
              ]),
              (event) => {
                if (failure !== undefined) return;
                try {
                  const rv = this.apply(event);
                  if (rv === 'gone') gone = true;
                  else if (rv) resourceVersion = rv;
                } catch (err) {
                  failure = err;
                  watchAbort.abort();
                }
              },
              watchAbort.signal,
            );
          } finally {
            signal.removeEventListener('abort', forward);
          }
          if (failure !== undefined) throw failure;
          if (gone) break; // 410: our resourceVersion is too old; list again
        }
      } catch (err) {
        if (signal.aborted) return;
        this.error =
          err instanceof MoorError
            ? err
            : new MoorError('system', `watching ${this.options.path}: ${String(err)}`, { cause: err });
        this.options.onError?.(this.error);
        this.restarts += 1;
        // Full jitter on the upper half: between backoff/2 and backoff.
        const delay = Math.round(backoff / 2 + (backoff / 2) * (this.options.random ?? Math.random)());
        this.lastBackoffMs = delay;
        await sleep(this.options.clock ?? systemClock, delay, signal);
        backoff = Math.min(max, backoff * 2);
      }
    }
  }

  private async relist(): Promise<string> {
    const list = await this.options.client.get<{
      items?: KubeObject[];
      metadata?: { resourceVersion?: string };
    }>(this.query([]));
    this.objects.clear();
    for (const item of list.items ?? []) this.objects.set(keyOf(item), item);
    this.syncedOnce = true;
    this.options.onChange();
    return list.metadata?.resourceVersion ?? '';
  }

  /** Returns the event's resourceVersion, or 'gone' when the watch must restart from a list. */
  private apply(event: WatchEvent): string | 'gone' | undefined {
    const object = event.object as KubeObject;
    switch (event.type) {
      case 'ADDED':
      case 'MODIFIED':
        this.objects.set(keyOf(object), object);
        this.options.onChange();
        break;
      case 'DELETED':
        this.objects.delete(keyOf(object));
        this.options.onChange();
        break;
      case 'BOOKMARK':
        break;
      case 'ERROR': {
        const code = (event.object as { code?: number }).code;
        if (code === 410) return 'gone';
        throw new MoorError(
          'system',
          `watch ${this.options.path}: ${(event.object as { message?: string }).message ?? 'error event'}`,
        );
      }
      default:
        return undefined;
    }
    return object.metadata?.resourceVersion;
  }
}

function keyOf(object: KubeObject): string {
  return `${object.metadata?.namespace ?? ''}/${object.metadata?.name ?? ''}`;
}
