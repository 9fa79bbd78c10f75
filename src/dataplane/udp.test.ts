import { describe, expect, it } from 'vitest';
import { UdpDatagrams } from './udp.ts';

describe('UdpDatagrams (loopback)', () => {
  it('sends to its destinations and receives from peers; close flushes what was sent', async () => {
    const port = 20_000 + Math.floor(Math.random() * 20_000);
    const log: string[] = [];
    const a = await UdpDatagrams.open({
      bindAddress: '127.0.0.1',
      port,
      destinations: ['127.0.0.2'],
      log: (l) => log.push(l),
    });
    const b = await UdpDatagrams.open({
      bindAddress: '127.0.0.2',
      port,
      destinations: ['127.0.0.1'],
      log: (l) => log.push(l),
    });
    const got: string[] = [];
    const arrived = new Promise<void>((resolve) =>
      b.onDatagram((d, from) => {
        got.push(`${d.toString()} from ${from}`);
        if (got.length === 2) resolve();
      }),
    );
    a.send(Buffer.from('one'));
    a.send(Buffer.from('two'));
    await a.close();
    await arrived;
    await b.close();
    expect(got).toEqual(['one from 127.0.0.1', 'two from 127.0.0.1']);
    expect(log).toEqual([]);
  });

  it('names the port and the fix when it is taken', async () => {
    const port = 20_000 + Math.floor(Math.random() * 20_000);
    const { createSocket } = await import('node:dgram');
    const holder = createSocket('udp4');
    await new Promise<void>((r) => holder.bind(port, '127.0.0.3', () => r()));
    await expect(
      UdpDatagrams.open({ bindAddress: '127.0.0.3', port, destinations: [], log: () => undefined }),
    ).rejects.toThrow(new RegExp(`cannot bind the heartbeat port ${port}/udp`));
    holder.close();
  });
});
