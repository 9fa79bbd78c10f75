// Serves /metrics for Prometheus. Loopback by default: the figures name clusterset members.
import { createServer, type Server } from 'node:http';
import type { Server as TlsServer } from 'node:https';
import { MoorError } from '../errors.ts';
import { errnoCode, systemError } from '../systemError.ts';

export function parseListenAddress(text: string, option = 'metrics-address'): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]+)):(\d+)$/.exec(text);
  const port = Number(m?.[3]);
  if (!m || !Number.isInteger(port) || port < 0 || port > 65535) {
    throw new MoorError('invalid-argument', `--${option} ${text} is not HOST:PORT`, {
      hint: 'for example 127.0.0.1:9476, or "off" to disable',
    });
  }
  return { host: m[1] ?? m[2] ?? '', port };
}

export async function startMetricsServer(
  address: { host: string; port: number },
  render: () => string | undefined,
  option = 'metrics-address',
): Promise<Server> {
  const server = createServer((req, res) => {
    if (req.url !== '/metrics') {
      res.writeHead(404).end('try /metrics\n');
      return;
    }
    const body = render();
    if (body === undefined) {
      res.writeHead(503).end('not ready\n');
      return;
    }
    res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' }).end(body);
  });
  await listenOn(server, address, `--${option}`, 'serve metrics', 'or "off"');
  return server;
}

/**
 * Listens on `address` with a clear error (naming `--option` and the fix) when that fails. Every
 * moor HTTP endpoint (metrics, the egress map) opens its socket through this.
 */
export async function listenOn(
  server: Server | TlsServer,
  address: { host: string; port: number },
  option: string,
  what: string,
  alternative = '',
): Promise<void> {
  const at = address.host.includes(':')
    ? `[${address.host}]:${address.port}`
    : `${address.host}:${address.port}`;
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(address.port, address.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (err) {
    server.close();
    throw systemError(err, `cannot ${what} on ${option} ${at}`, {
      subject: at,
      ...(errnoCode(err) === 'EADDRINUSE'
        ? {
            hint: `another program (another moor?) listens there: choose another ${option}${alternative ? `, ${alternative}` : ''}`,
          }
        : {}),
    });
  }
  // Errors after listening (none are expected on a listening socket) must not crash the daemon.
  server.on('error', () => {});
}
