// The socket of `/v1/egress-map`: HTTPS with the given certificate, or plain HTTP on a loopback
// address only (a bearer token must never cross a network in clear; a TLS-terminating proxy in
// the same pod reaches loopback). Moves bytes between node:http and the pure EgressMapHandler,
// and tells the handler when a client goes away so its long-poll is dropped at once.
import {
  createServer as createHttpServer,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import { isIP } from 'node:net';
import { MoorError } from '../errors.ts';
import { listenOn } from '../observability/metricsServer.ts';
import type { EgressMapHandler } from './egress-map-http.ts';

export interface EgressMapServerOptions {
  address: { host: string; port: number };
  /** PEM texts; without them the address must be loopback. */
  tls?: { cert: string; key: string };
  handler: EgressMapHandler;
  /** Open connections (waiters, ordinary requests, keep-alive idlers). */
  maxConnections?: number;
  log?: (line: string) => void;
}

export interface EgressMapServer {
  /** The bound port (useful with port 0). */
  port: number;
  /** HTTPS only: new connections get this certificate; open ones (long-polls) keep theirs. */
  setTls(tls: { cert: string; key: string }): void;
  /** Answers written since start, by HTTP status (not /healthz). */
  readonly requestsByCode: ReadonlyMap<number, number>;
  close(): Promise<void>;
}

export function isLoopback(host: string): boolean {
  if (host === 'localhost' || host === '::1') return true;
  return isIP(host) === 4 && host.startsWith('127.');
}

/** Refuses plain HTTP off loopback, and half a TLS configuration, before anything listens. */
export function checkListenSecurity(host: string, tls: { cert?: string; key?: string }): void {
  if ((tls.cert === undefined) !== (tls.key === undefined))
    throw new MoorError('invalid-argument', '--egress-map-tls-cert and --egress-map-tls-key go together', {
      hint: 'give both (a PEM certificate and its key), or neither for plain HTTP on loopback',
    });
  if (tls.cert === undefined && !isLoopback(host))
    throw new MoorError(
      'invalid-argument',
      `--egress-map-listen ${host} is not loopback and no TLS is configured`,
      {
        hint: 'give --egress-map-tls-cert and --egress-map-tls-key (bearer tokens must not travel in clear), or listen on 127.0.0.1',
      },
    );
}

export async function startEgressMapServer(o: EgressMapServerOptions): Promise<EgressMapServer> {
  const requestsByCode = new Map<number, number>();
  const count = (status: number) => requestsByCode.set(status, (requestsByCode.get(status) ?? 0) + 1);
  const onRequest = (req: IncomingMessage, res: ServerResponse) => serve(o, req, res, count);
  let server: Server;
  try {
    server = o.tls
      ? (createHttpsServer({ cert: o.tls.cert, key: o.tls.key }, onRequest) as unknown as Server)
      : createHttpServer(onRequest);
  } catch (err) {
    throw new MoorError(
      'invalid-input',
      `--egress-map-tls-cert/--egress-map-tls-key are not a usable PEM certificate and key: ${err instanceof Error ? err.message : String(err)}`,
      {
        hint: 'give a PEM certificate (chain) and the PEM private key that belongs to it',
      },
    );
  }
  server.maxConnections = o.maxConnections ?? 2000;
  // A long-poll holds its response for up to MAX_WAIT_SECONDS; the request itself must arrive fast.
  // Node applies these to receiving a request only (incomplete requests), never to a response
  // the handler holds back: a long-poll is bounded by MAX_WAIT_SECONDS, not by them.
  server.headersTimeout = 10_000;
  server.requestTimeout = 15_000;
  // A TLS handshake that fails (wrong CA on the client, a port scan) is the client's problem.
  server.on('tlsClientError', () => {});
  await listenOn(server, o.address, '--egress-map-listen', 'serve the egress map');
  const bound = server.address();
  const port = bound !== null && typeof bound === 'object' ? bound.port : o.address.port;
  return {
    port,
    requestsByCode,
    setTls: (tls) => {
      if (!o.tls)
        throw new MoorError(
          'invalid-argument',
          'the egress map serves plain HTTP: no certificate to replace',
        );
      (server as unknown as HttpsServer).setSecureContext({ cert: tls.cert, key: tls.key });
    },
    close: async () => {
      // Waiters get their 304 first (written on the next turn), then idle connections close;
      // whatever still hangs after a grace period is cut.
      o.handler.close();
      await new Promise((r) => setImmediate(r));
      await new Promise<void>((resolve) => {
        const cut = setTimeout(() => server.closeAllConnections(), 2000);
        server.close(() => {
          clearTimeout(cut);
          resolve();
        });
        server.closeIdleConnections();
      });
    },
  };
}

function serve(
  o: EgressMapServerOptions,
  req: IncomingMessage,
  res: ServerResponse,
  count: (status: number) => void,
): void {
  const gone = new AbortController();
  res.on('close', () => gone.abort());
  // Readiness probes are not requests for the map: they would swamp the counts.
  const counted = (status: number) => {
    if (!(req.url ?? '/').startsWith('/healthz')) count(status);
  };
  o.handler
    .handle(
      {
        method: req.method ?? 'GET',
        url: req.url ?? '/',
        authorization: req.headers.authorization,
        ifNoneMatch: req.headers['if-none-match'],
      },
      gone.signal,
    )
    .then(
      (r) => {
        if (res.destroyed || gone.signal.aborted) return;
        counted(r.status);
        res.writeHead(r.status, { ...r.headers, 'content-length': String(r.body.length) });
        res.end(r.body);
      },
      (err: unknown) => {
        // A defect, not bad input: say so once, answer 500 without internals.
        o.log?.(`egress-map: internal error: ${err instanceof Error ? err.message : String(err)}`);
        if (!res.headersSent && !res.destroyed) {
          counted(500);
          res
            .writeHead(500, { 'content-type': 'application/json' })
            .end(
              `${JSON.stringify({ kind: 'Status', status: 500, reason: 'InternalError', message: 'internal error' })}\n`,
            );
        }
      },
    );
}
