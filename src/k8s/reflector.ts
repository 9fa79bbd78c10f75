// Keeps a local copy of one collection on the API server: list, then watch from the list's
// resourceVersion; on a closed stream, watch again; on "410 Gone" or any error, back off and
// list again. The copy survives outages unchanged (stale, not empty), so a broker that goes away
// never tears down what is working. Every change calls `onChange`; consumers coalesce.
import { MoorError } from '../errors.ts';
import type { KubeRestClient, WatchEvent } from './rest.ts';

export type KubeObject = Record<string, unknown> & {
  metadata?: { name?: string; namespace?: string; resourceVersion?: string };
};

export interface ReflectorOptions {
  client: KubeRestClient;
  /** Collection path, e.g. /apis/submariner.io/v1/namespaces/x/endpoints */
  path: string;
  labelSelector?: string;
  onChange: () => void;
  onError?: (err: MoorError) => void;
  initialBackoffMs?: number;
  maxBackoffMs?: number;
}

export class Reflector {
  private readonly options: ReflectorOptions;
  private readonly objects = new Map<string, KubeObject>();
  private abort: AbortController | undefined;
  private running: Promise<void> | undefined;
  private syncedOnce = false;
  private error: MoorError | undefined;
  restarts = 0;

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
      await sleep(50);
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
          await this.options.client.watch(
            this.query([
              'watch=1',
              'allowWatchBookmarks=true',
              'timeoutSeconds=290',
              `resourceVersion=${resourceVersion}`,
            ]),
            (event) => {
              const rv = this.apply(event);
              if (rv === 'gone') gone = true;
              else if (rv) resourceVersion = rv;
            },
            signal,
          );
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
        await sleep(backoff, signal);
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

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener(
      'abort',
      () => {
        clearTimeout(timer);
        resolve();
      },
      { once: true },
    );
  });
}
