// A loopback port that is free for both UDP and TCP right now.
import { createSocket } from 'node:dgram';
import { createServer } from 'node:net';

export async function freeLoopbackPort(): Promise<number> {
  for (let attempt = 0; attempt < 20; attempt++) {
    const tcp = createServer();
    const port = await new Promise<number>((resolve, reject) => {
      tcp.once('error', reject);
      tcp.listen(0, '127.0.0.1', () => resolve((tcp.address() as { port: number }).port));
    });
    const udp = createSocket('udp4');
    const ok = await new Promise<boolean>((resolve) => {
      udp.once('error', () => resolve(false));
      udp.bind(port, '127.0.0.1', () => resolve(true));
    });
    try {
      udp.close();
    } catch {
      // never bound
    }
    await new Promise<void>((resolve) => tcp.close(() => resolve()));
    if (ok) return port;
  }
  throw new Error('no free loopback port for UDP and TCP');
}
