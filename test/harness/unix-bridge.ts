// The test-runner end of the namespace bridge: a loopback TCP port that forwards to a unix
// socket served inside a namespace (see unix-bridge-in-namespace.ts).
import { existsSync } from 'node:fs';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { waitFor } from './process.ts';
import type { TestRun } from './run.ts';
import type { Host } from './topology.ts';

export interface Bridge {
  /** 127.0.0.1 port in the test runner's namespace. */
  port: number;
  close(): Promise<void>;
}

const inNamespaceScript = join(import.meta.dirname, 'unix-bridge-in-namespace.ts');

export async function bridgeToNamespace(
  run: TestRun,
  host: Host,
  targetHost: string,
  targetPort: number,
): Promise<Bridge> {
  const socketPath = join(run.dir, `bridge-${host.name}-${targetPort}.sock`);
  const proc = host.spawn(`bridge-${targetPort}`, [
    process.execPath,
    inNamespaceScript,
    socketPath,
    targetHost,
    String(targetPort),
  ]);
  await waitFor(`bridge socket ${socketPath}`, () => (existsSync(socketPath) ? true : undefined), {
    process: proc,
  });
  const sockets = new Set<Socket>();
  const server: Server = createServer((inbound) => {
    const outbound = connect(socketPath);
    sockets.add(inbound);
    inbound.on('close', () => sockets.delete(inbound));
    inbound.pipe(outbound).pipe(inbound);
    const close = () => {
      inbound.destroy();
      outbound.destroy();
    };
    inbound.on('error', close);
    outbound.on('error', close);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('bridge: no TCP address');
  const close = async () => {
    // Clients keep connections alive; close them, or server.close() would wait forever.
    for (const s of sockets) s.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await proc.stop();
  };
  run.defer(close);
  return { port: address.port, close };
}
