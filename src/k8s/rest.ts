// A small Kubernetes REST client on node:https: JSON requests and watch streams with a CA and a
// bearer token. The host agent needs only a handful of verbs on a few resources; this keeps it
// free of @kubernetes/client-node (~80 MB RSS and ~0.2 s at start even bundled) and gives full
// control over timeouts, watch restarts and error messages.
import { Agent, request } from 'node:https';
import { MoorError } from '../errors.ts';

export interface KubeRestOptions {
  /** https://host:port, no trailing slash. */
  server: string;
  caPem?: string;
  token: string;
  /** Skip TLS verification (subctl's --check-broker-certificate=false). */
  insecure?: boolean;
  timeoutMs?: number;
}

export interface KubeStatus {
  kind?: string;
  status?: string;
  message?: string;
  reason?: string;
  code?: number;
  details?: { name?: string; kind?: string; causes?: Array<{ message?: string; field?: string }> };
}

/** An error response of the API server, with what was asked and what it said. */
export class KubeApiError extends MoorError {
  readonly status: number;
  readonly reason: string;

  constructor(method: string, path: string, status: number, body: KubeStatus | undefined) {
    const reason = body?.reason ?? `HTTP ${status}`;
    const detail = body?.message ?? reason;
    super(codeFor(status), `broker API ${method} ${path}: ${status} ${reason}: ${detail}`, {
      hint: hintFor(status),
    });
    this.status = status;
    this.reason = reason;
  }
}

function codeFor(status: number) {
  if (status === 401) return 'broker-auth' as const;
  if (status === 403) return 'broker-forbidden' as const;
  if (status === 404) return 'not-found' as const;
  if (status === 409) return 'broker-conflict' as const;
  return 'system' as const;
}

function hintFor(status: number): string | undefined {
  if (status === 401)
    return 'the broker token is wrong or expired: get a fresh broker-info.subm (subctl deploy-broker) and join again';
  if (status === 403)
    return 'the broker credential lacks this permission: check the broker Roles (submariner-k8s-broker-admin / -cluster)';
  return undefined;
}

function abortReason(signal: AbortSignal): Error {
  return signal.reason instanceof Error ? signal.reason : new Error('request aborted');
}

export function isNotFound(err: unknown): boolean {
  return err instanceof KubeApiError && err.status === 404;
}
export function isConflict(err: unknown): boolean {
  return err instanceof KubeApiError && err.status === 409;
}

/** Per request: abort it (the whole request, not just an idle socket) and bound its idle time. */
export interface RequestOptions {
  signal?: AbortSignal;
  timeoutMs?: number;
}

export interface WatchEvent {
  type: 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';
  object: Record<string, unknown>;
}

/** Longest watch event line we buffer. */
const MAX_WATCH_LINE = 16 * 1024 * 1024;

export class KubeRestClient {
  readonly server: string;
  private readonly options: KubeRestOptions;
  private readonly agent: Agent;
  /** Watches hold their socket for minutes: on their own pool, one socket each, so a component
   * with many watches (the controller has nine) never starves its requests (lease renewals). */
  private readonly watchAgent: Agent;

  constructor(options: KubeRestOptions) {
    let url: URL;
    try {
      url = new URL(options.server);
    } catch {
      throw new MoorError('invalid-input', `broker URL ${JSON.stringify(options.server)} is not a URL`, {
        hint: 'give the API server as https://host:port (--broker-url, or brokerURL in broker-info.subm)',
      });
    }
    if (url.protocol !== 'https:') {
      throw new MoorError('invalid-input', `broker URL ${options.server} is not https`, {
        hint: 'the broker API server must be reached over https',
      });
    }
    this.server = `${url.protocol}//${url.host}`;
    this.options = options;
    this.agent = new Agent({
      keepAlive: true,
      maxSockets: 8,
      ...(options.caPem ? { ca: options.caPem } : {}),
      rejectUnauthorized: !options.insecure,
    });
    this.watchAgent = new Agent({
      keepAlive: true,
      ...(options.caPem ? { ca: options.caPem } : {}),
      rejectUnauthorized: !options.insecure,
    });
  }

  close(): void {
    this.agent.destroy();
    this.watchAgent.destroy();
  }

  async get<T = Record<string, unknown>>(path: string, opts?: RequestOptions): Promise<T> {
    return (await this.request('GET', path, undefined, undefined, opts)) as T;
  }
  async create<T = Record<string, unknown>>(path: string, body: unknown, opts?: RequestOptions): Promise<T> {
    return (await this.request('POST', path, body, undefined, opts)) as T;
  }
  async replace<T = Record<string, unknown>>(path: string, body: unknown, opts?: RequestOptions): Promise<T> {
    return (await this.request('PUT', path, body, undefined, opts)) as T;
  }
  async delete(path: string, body?: unknown): Promise<void> {
    await this.request('DELETE', path, body);
  }
  async mergePatch<T = Record<string, unknown>>(path: string, body: unknown): Promise<T> {
    return (await this.request('PATCH', path, body, 'application/merge-patch+json')) as T;
  }

  /** One JSON request. Network failures become broker-unreachable; error statuses KubeApiError. */
  request(
    method: string,
    path: string,
    body?: unknown,
    contentType = 'application/json',
    opts: RequestOptions = {},
  ): Promise<unknown> {
    const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
    const idleMs = opts.timeoutMs ?? this.options.timeoutMs ?? 15_000;
    return new Promise((resolve, reject) => {
      if (opts.signal?.aborted) {
        reject(this.networkError(method, path, abortReason(opts.signal)));
        return;
      }
      const req = request(
        `${this.server}${path}`,
        {
          method,
          agent: this.agent,
          timeout: idleMs,
          ...(opts.signal ? { signal: opts.signal } : {}),
          headers: {
            accept: 'application/json',
            authorization: `Bearer ${this.options.token}`,
            ...(payload ? { 'content-type': contentType, 'content-length': payload.length } : {}),
          },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('error', (err) => reject(this.networkError(method, path, err)));
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            let json: unknown;
            try {
              json = text === '' ? undefined : JSON.parse(text);
            } catch {
              json = undefined;
            }
            const status = res.statusCode ?? 0;
            if (status >= 200 && status < 300) resolve(json);
            else reject(new KubeApiError(method, path, status, json as KubeStatus | undefined));
          });
        },
      );
      req.on('timeout', () => req.destroy(new Error(`no answer within ${idleMs} ms`)));
      req.on('error', (err) =>
        reject(this.networkError(method, path, opts.signal?.aborted ? abortReason(opts.signal) : err)),
      );
      req.end(payload);
    });
  }

  /**
   * Stream watch events of `path` (a collection URL with `?watch=1&…`) until the server closes
   * the stream, `signal` aborts, or an error occurs. Resolves when the stream ends normally.
   */
  watch(path: string, onEvent: (event: WatchEvent) => void, signal: AbortSignal): Promise<void> {
    return new Promise((resolve, reject) => {
      const req = request(`${this.server}${path}`, {
        method: 'GET',
        agent: this.watchAgent,
        signal,
        headers: { accept: 'application/json', authorization: `Bearer ${this.options.token}` },
      });
      // Silence on a watch is normal; a dead connection is caught by the server-side timeout
      // (timeoutSeconds in the path) plus this generous idle limit.
      req.setTimeout(10 * 60_000, () => req.destroy(new Error('watch idle for 10 minutes')));
      req.on('response', (res) => {
        const status = res.statusCode ?? 0;
        if (status < 200 || status >= 300) {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            let json: KubeStatus | undefined;
            try {
              json = JSON.parse(Buffer.concat(chunks).toString('utf8')) as KubeStatus;
            } catch {
              json = undefined;
            }
            reject(new KubeApiError('WATCH', path, status, json));
          });
          return;
        }
        let buffered = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          buffered += chunk;
          // etcd caps an object at 1.5 MiB; a longer line is a broken or hostile stream.
          if (buffered.length > MAX_WATCH_LINE) {
            req.destroy(new Error(`watch ${path}: an event longer than ${MAX_WATCH_LINE} bytes`));
            return;
          }
          for (let nl = buffered.indexOf('\n'); nl >= 0; nl = buffered.indexOf('\n')) {
            const line = buffered.slice(0, nl).trim();
            buffered = buffered.slice(nl + 1);
            if (line === '') continue;
            let event: WatchEvent;
            try {
              event = JSON.parse(line) as WatchEvent;
            } catch {
              req.destroy(new Error(`watch ${path}: a line that is not JSON`));
              return;
            }
            onEvent(event);
          }
        });
        res.on('end', () => resolve());
        res.on('error', (err) => reject(this.networkError('WATCH', path, err)));
      });
      req.on('error', (err) => {
        if (signal.aborted) resolve();
        else reject(this.networkError('WATCH', path, err));
      });
      req.end();
    });
  }

  private networkError(method: string, path: string, err: Error): MoorError {
    const code = (err as NodeJS.ErrnoException).code;
    if (code && /CERT|SELF_SIGNED|UNABLE_TO_VERIFY|ERR_TLS/.test(code)) {
      return new MoorError('broker-unreachable', `broker ${this.server}: TLS verification failed (${code})`, {
        cause: err,
        hint: "the broker's CA (ClientToken ca.crt in broker-info.subm) does not match its certificate",
      });
    }
    return new MoorError(
      'broker-unreachable',
      `broker ${this.server} unreachable (${method} ${path}): ${err.message}`,
      {
        cause: err,
        hint: 'check the broker URL, that this host can reach it (routes, firewall), and that the API server runs',
      },
    );
  }
}
