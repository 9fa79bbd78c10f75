import { afterEach, describe, expect, it, vi } from 'vitest';
import { createAnswerer } from './answer.ts';
import { type DecodedMessage, decodeMessage, encodeQuery } from './message.ts';
import { buildRecordIndex } from './records.ts';
import { type DnsServer, type DnsServerOptions, startDnsServer } from './server.ts';
import { frameMessage } from './tcp-framing.ts';
import { endpointSlice, serviceImport, serviceIpSlice, tcp } from './testing.ts';
import { tcpClient, udpExchange } from './testing-sockets.ts';

const S = 'svc.clusterset.local';
const index = buildRecordIndex({
  localClusterId: 'local',
  connectedClusters: 'all',
  serviceImports: [
    serviceImport({ service: 'web', namespace: 'shop', ports: [tcp('http', 80)] }),
    serviceImport({ service: 'db', namespace: 'shop', type: 'Headless' }),
  ],
  endpointSlices: [
    serviceIpSlice('web', 'shop', 'east', '10.1.0.10', [tcp('http', 80)]),
    endpointSlice({
      service: 'db',
      namespace: 'shop',
      cluster: 'east',
      headless: true,
      ports: [tcp('pg', 5432)],
      endpoints: Array.from({ length: 100 }, (_, i) => ({ addresses: [`10.1.1.${i}`], hostname: `db-${i}` })),
    }),
  ],
}).index;
const answerer = createAnswerer(index);

const servers: DnsServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

async function start(options: Partial<DnsServerOptions> = {}): Promise<DnsServer> {
  const server = await startDnsServer({ address: '127.0.0.1', port: 0, answerer, ...options });
  servers.push(server);
  return server;
}

function decode(buf: Buffer): DecodedMessage {
  const decoded = decodeMessage(buf);
  if (!decoded.ok) throw new Error(decoded.reason);
  return decoded.message;
}

const query = (id: number, name: string, type = 1) => encodeQuery({ id, name, type });

describe('DNS server over UDP', () => {
  it('answers on the same port as TCP', async () => {
    const server = await start();
    const { port } = server.address();
    expect(port).toBeGreaterThan(0);
    const reply = await udpExchange(port, [query(11, `web.shop.${S}`)]);
    expect(reply && decode(reply)).toMatchObject({
      id: 11,
      rcode: 0,
      answers: [{ rdata: { address: '10.1.0.10' } }],
    });
    expect(server.counters).toMatchObject({ udpQueries: 1, replies: 1, rcodes: { NOERROR: 1 } });
  });

  it('survives garbage and keeps answering', async () => {
    const server = await start();
    const { port } = server.address();
    const junk = [
      Buffer.alloc(0),
      Buffer.alloc(3),
      Buffer.from('ffff8000000100000000000000', 'hex'),
      Buffer.alloc(600, 0xc0),
    ];
    const reply = await udpExchange(port, [...junk, query(12, `web.shop.${S}`)]);
    expect(reply && decode(reply).id).toBe(12);
    expect(server.counters.dropped).toBeGreaterThanOrEqual(3);
  });

  it('sets TC on big answers and the full answer comes over TCP', async () => {
    const server = await start();
    const { port } = server.address();
    const viaUdp = await udpExchange(port, [query(13, `db.shop.${S}`)]);
    expect(viaUdp && decode(viaUdp).tc).toBe(true);
    const client = tcpClient(port);
    client.socket.write(frameMessage(query(14, `db.shop.${S}`)));
    const [viaTcp] = await client.waitFor(1);
    expect(viaTcp && decode(viaTcp)).toMatchObject({ id: 14, tc: false });
    expect(viaTcp && decode(viaTcp).answers).toHaveLength(100);
    expect(server.counters.truncated).toBe(1);
    client.socket.destroy();
  });
});

describe('DNS server over TCP', () => {
  it('answers pipelined queries and queries split into single bytes on one connection', async () => {
    const server = await start();
    const client = tcpClient(server.address().port);
    client.socket.write(
      Buffer.concat([frameMessage(query(1, `web.shop.${S}`)), frameMessage(query(2, `nope.shop.${S}`))]),
    );
    for (const byte of frameMessage(query(3, `web.shop.${S}`, 33))) client.socket.write(Buffer.from([byte]));
    const replies = (await client.waitFor(3)).map(decode);
    expect(replies.map((r) => [r.id, r.rcode])).toEqual([
      [1, 0],
      [2, 3],
      [3, 0],
    ]);
    expect(server.counters.tcpQueries).toBe(3);
    client.socket.destroy();
  });

  it('closes the connection on a zero-length frame', async () => {
    const server = await start();
    const client = tcpClient(server.address().port);
    client.socket.write(Buffer.from([0, 0]));
    await client.closed;
    expect(server.counters.tcpBadFrames).toBe(1);
  });

  it('drops frames it cannot answer without closing the connection', async () => {
    const server = await start();
    const client = tcpClient(server.address().port);
    client.socket.write(
      Buffer.concat([frameMessage(Buffer.from([1, 2, 3])), frameMessage(query(5, `web.shop.${S}`))]),
    );
    const [reply] = await client.waitFor(1);
    expect(reply && decode(reply).id).toBe(5);
    client.socket.destroy();
  });

  it('refuses connections beyond the limit', async () => {
    const server = await start({ tcpMaxConnections: 2 });
    const { port } = server.address();
    const first = tcpClient(port);
    const second = tcpClient(port);
    first.socket.write(frameMessage(query(1, `web.shop.${S}`)));
    second.socket.write(frameMessage(query(2, `web.shop.${S}`)));
    await Promise.all([first.waitFor(1), second.waitFor(1)]);
    const third = tcpClient(port);
    await third.closed;
    expect(server.counters).toMatchObject({ tcpRejected: 1, tcpActive: 2 });
    first.socket.destroy();
    second.socket.destroy();
  });

  it('closes idle connections', async () => {
    const server = await start({ tcpIdleTimeoutMs: 150 });
    const client = tcpClient(server.address().port);
    client.socket.write(Buffer.from([0, 40, 1])); // a frame that never completes
    await client.closed;
    expect(server.counters.tcpIdleTimeouts).toBe(1);
  });

  it('disconnects a client that sends but never reads', async () => {
    const server = await start({ tcpMaxQueuedBytes: 64 * 1024 });
    const client = tcpClient(server.address().port);
    client.socket.pause();
    const frame = frameMessage(query(9, `db.shop.${S}`, 33));
    client.socket.write(Buffer.concat(Array.from({ length: 20000 }, () => frame)));
    // The paused client never sees its close event, so watch the server side instead.
    await vi.waitFor(() => expect(server.counters).toMatchObject({ tcpSlowReaders: 1, tcpActive: 0 }), {
      timeout: 10_000,
    });
    expect(server.counters.tcpQueries).toBeLessThan(20000);
    client.socket.destroy();
  });
});

describe('DNS server hooks and failures', () => {
  it('hands out-of-zone queries to a forwarder, and sends SERVFAIL when it fails', async () => {
    const forwarded: string[] = [];
    const server = await start({
      forwarder: {
        forward: async (q) => {
          const name = decode(q).questions[0]?.name ?? '';
          forwarded.push(name);
          if (name === 'fail.example.com') throw new Error('upstream down');
          const reply = Buffer.from(q);
          reply[2] = 0x81; // QR + RD, NOERROR
          return reply;
        },
      },
    });
    const { port } = server.address();
    const ok = await udpExchange(port, [query(21, 'www.example.com')]);
    expect(ok && decode(ok)).toMatchObject({ id: 21, rcode: 0 });
    const failed = await udpExchange(port, [query(22, 'fail.example.com')]);
    expect(failed && decode(failed)).toMatchObject({ id: 22, rcode: 2 });
    const inZone = await udpExchange(port, [query(23, `nope.shop.${S}`)]);
    expect(inZone && decode(inZone).rcode).toBe(3);
    expect(forwarded).toEqual(['www.example.com', 'fail.example.com']);
    expect(server.counters).toMatchObject({ forwarded: 2, forwardFailures: 1 });
  });

  it('ignores a forwarded reply that arrives after close()', async () => {
    let release: (reply: Buffer) => void = () => {};
    const late = new Promise<Buffer>((resolve) => {
      release = resolve;
    });
    let asked: () => void = () => {};
    const forwardedOnce = new Promise<void>((resolve) => {
      asked = resolve;
    });
    const server = await start({
      forwarder: {
        forward: (q) => {
          asked();
          return late.then(() => q);
        },
      },
    });
    void udpExchange(server.address().port, [query(31, 'www.example.com')], 300);
    await forwardedOnce;
    await server.close();
    servers.length = 0;
    release(Buffer.alloc(12));
    await new Promise((r) => setTimeout(r, 20));
    expect(server.counters.sendErrors).toBe(1);
  });

  it('counts an answerer that throws instead of crashing', async () => {
    const server = await start({
      answerer: {
        answer: () => {
          throw new Error('bug');
        },
      },
    });
    expect(await udpExchange(server.address().port, [query(1, 'x')], 300)).toBeNull();
    expect(server.counters.internalErrors).toBe(1);
  });

  it('fails clearly when the port is taken, and stops answering after close()', async () => {
    const server = await start();
    const { port } = server.address();
    await expect(startDnsServer({ address: '127.0.0.1', port, answerer })).rejects.toThrow(
      /cannot listen for DNS/,
    );
    await server.close();
    servers.length = 0;
    expect(await udpExchange(port, [query(1, `web.shop.${S}`)], 300)).toBeNull();
  });
});
