import { createSocket, type RemoteInfo, type Socket as UdpSocket } from 'node:dgram';
import { type AddressInfo, createServer, type Server } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { MoorError } from '../errors.ts';
import { createAnswerer } from './answer.ts';
import { parseUpstream, UdpForwarder, type UdpForwarderOptions } from './forwarder.ts';
import { type DecodedMessage, decodeMessage, encodeQuery } from './message.ts';
import { buildRecordIndex } from './records.ts';
import { startDnsServer } from './server.ts';
import { FrameReader, frameMessage } from './tcp-framing.ts';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function decode(buf: Buffer | null): DecodedMessage {
  if (buf === null) throw new Error('no reply');
  const decoded = decodeMessage(buf);
  if (!decoded.ok) throw new Error(decoded.reason);
  return decoded.message;
}

const addresses = (buf: Buffer | null) =>
  decode(buf).answers.map((a) => (a.rdata.kind === 'A' ? a.rdata.address : '?'));

/** A reply to a query built by encodeQuery (no EDNS): its header and question plus A records. */
function reply(query: Buffer, ips: string[], options: { tc?: boolean; question?: Buffer } = {}): Buffer {
  const head = Buffer.from(query);
  if (options.question) options.question.copy(head, 12);
  head.writeUInt16BE(0x8180 | (options.tc ? 0x0200 : 0), 2);
  head.writeUInt16BE(ips.length, 6);
  const records = ips.map((ip) => {
    const record = Buffer.from('c00c000100010000003c0004', 'hex');
    return Buffer.concat([record, Buffer.from(ip.split('.').map(Number))]);
  });
  return Buffer.concat([head, ...records]);
}

interface Fake {
  readonly port: number;
  readonly address: string;
  readonly names: string[];
}

/**
 * A fake upstream on UDP and TCP (same port) that answers by question name:
 * silent.* never answers, spoof.* first gets a forged reply from another port, wrongq.* first gets
 * a reply for another question, big.* is truncated over UDP and complete over TCP.
 */
async function fakeUpstream(address = '127.0.0.1', silent = false): Promise<Fake> {
  const names: string[] = [];
  const family = address.includes(':') ? 'udp6' : 'udp4';
  const spoofer = createSocket(family);
  spoofer.bind(0, address);
  const onQuery = (udp: UdpSocket, query: Buffer, peer: RemoteInfo) => {
    const name = decode(query).questions[0]?.name ?? '';
    names.push(name);
    if (silent || name.startsWith('silent.')) return;
    const send = (msg: Buffer, from = udp) => from.send(msg, peer.port, peer.address);
    if (name.startsWith('spoof.')) send(reply(query, ['203.0.113.66']), spoofer);
    if (name.startsWith('wrongq.')) {
      send(
        reply(query, ['203.0.113.67'], {
          question: encodeQuery({ id: 0, name: 'wrongx.test', type: 1 }).subarray(12),
        }),
      );
      send(Buffer.from(query)); // the query itself: same ID and question, but QR is clear
    }
    if (name.startsWith('case.')) {
      send(
        reply(query, ['192.0.2.9'], {
          question: encodeQuery({ id: 0, name: name.toUpperCase(), type: 1 }).subarray(12),
        }),
      );
      return;
    }
    const final = () =>
      send(reply(query, name.startsWith('big.') ? [] : ['192.0.2.1'], { tc: name.startsWith('big.') }));
    setTimeout(final, name.startsWith('spoof.') || name.startsWith('wrongq.') ? 30 : 0);
  };
  for (let attempt = 0; ; attempt++) {
    const tcp: Server = createServer((socket) => {
      socket.on('error', () => {});
      const frames = new FrameReader();
      socket.on('data', (chunk: Buffer) =>
        frames.push(chunk, (frame) => {
          const big = Array.from({ length: 40 }, (_, i) => `198.51.100.${i}`);
          socket.write(frameMessage(reply(Buffer.from(frame), big)));
          return true;
        }),
      );
    });
    await new Promise<void>((resolve) => tcp.listen(0, address, resolve));
    const port = (tcp.address() as AddressInfo).port;
    const udp = createSocket(family);
    const bound = await new Promise<boolean>((resolve) => {
      udp.once('error', () => resolve(false));
      udp.bind(port, address, () => resolve(true));
    });
    if (!bound && attempt < 5) {
      tcp.close();
      continue;
    }
    udp.on('message', (msg, peer) => onQuery(udp, msg, peer));
    cleanups.push(async () => {
      await new Promise<void>((resolve) => tcp.close(() => resolve()));
      await new Promise<void>((resolve) => udp.close(() => resolve()));
      await new Promise<void>((resolve) => spoofer.close(() => resolve()));
    });
    return { port, address, names };
  }
}

function forwarder(options: UdpForwarderOptions): UdpForwarder {
  const f = new UdpForwarder(options);
  cleanups.push(() => f.close());
  return f;
}

const at = (fake: Fake) =>
  fake.address.includes(':') ? `[${fake.address}]:${fake.port}` : `${fake.address}:${fake.port}`;
const query = (id: number, name: string) => encodeQuery({ id, name, type: 1 });

describe('parseUpstream', () => {
  it.each([
    ['192.0.2.53', '192.0.2.53', 53, 'ipv4'],
    [' 192.0.2.53:5353 ', '192.0.2.53', 5353, 'ipv4'],
    ['2001:DB8:0::53', '2001:db8::53', 53, 'ipv6'],
    ['[2001:db8::53]:5353', '2001:db8::53', 5353, 'ipv6'],
    ['[::1]', '::1', 53, 'ipv6'],
  ])('%s', (text, address, port, family) => {
    expect(parseUpstream(text)).toEqual({ address, port, family });
  });

  it.each([
    '',
    'dns.google',
    '192.0.2.53:0',
    '192.0.2.53:65536',
    '192.0.2.53:dns',
    '192.0.2.300',
    '[192.0.2.53]:53',
    '[::1]:',
    'fe80::1%eth0',
  ])('refuses %j', (text) => {
    const err = (() => {
      try {
        parseUpstream(text);
      } catch (e) {
        return e;
      }
      return null;
    })();
    expect(err).toBeInstanceOf(MoorError);
    expect(err).toMatchObject({ code: 'invalid-argument', hint: expect.stringContaining('[2001:db8::53]') });
  });

  it('refuses an empty upstream list and absurd settings', () => {
    expect(() => new UdpForwarder({ upstreams: [] })).toThrow(/no upstream/);
    expect(() => new UdpForwarder({ upstreams: ['127.0.0.1'], maxInflight: 0 })).toThrow(/maxInflight/);
  });
});

describe('UdpForwarder', () => {
  it('forwards with a fresh ID and restores the client ID in the reply', async () => {
    const fake = await fakeUpstream();
    const f = forwarder({ upstreams: [at(fake)] });
    const answer = await f.forward(query(0x1234, 'www.example.com'), 'udp');
    expect(decode(answer)).toMatchObject({ id: 0x1234, qr: true, rcode: 0 });
    expect(addresses(answer)).toEqual(['192.0.2.1']);
    expect(fake.names).toEqual(['www.example.com']);
    expect(f.counters).toMatchObject({ queries: 1, answered: 1, mismatched: 0 });
    expect(f.inflight).toBe(0);
  });

  it('ignores a reply from the wrong port even with the right ID and question', async () => {
    const fake = await fakeUpstream();
    const f = forwarder({ upstreams: [at(fake)] });
    const answer = await f.forward(query(7, 'spoof.example.com'), 'udp');
    expect(addresses(answer)).toEqual(['192.0.2.1']);
    expect(f.counters.mismatched).toBe(1);
  });

  it('ignores replies for another question and non-responses', async () => {
    const fake = await fakeUpstream();
    const f = forwarder({ upstreams: [at(fake)] });
    const answer = await f.forward(query(8, 'wrongq.example.com'), 'udp');
    expect(addresses(answer)).toEqual(['192.0.2.1']);
    expect(f.counters.mismatched).toBe(2);
  });

  it('accepts a question echoed in another letter case', async () => {
    const fake = await fakeUpstream();
    const f = forwarder({ upstreams: [at(fake)] });
    expect(addresses(await f.forward(query(9, 'case.example.com'), 'udp'))).toEqual(['192.0.2.9']);
  });

  it('tries the next upstream after a timeout, then gives up with null', async () => {
    const silent = await fakeUpstream('127.0.0.1', true);
    const good = await fakeUpstream();
    const f = forwarder({ upstreams: [at(silent), at(good)], timeoutMs: 100 });
    const started = performance.now();
    const answer = await f.forward(query(10, 'www.example.com'), 'udp');
    expect(performance.now() - started).toBeGreaterThanOrEqual(90);
    expect(decode(answer).id).toBe(10);
    expect(silent.names).toEqual(['www.example.com']);

    expect(await f.forward(query(11, 'silent.example.com'), 'udp')).toBeNull();
    expect(good.names).toEqual(['www.example.com', 'silent.example.com']);
    expect(f.counters).toMatchObject({ answered: 1, failed: 1, timeouts: 3 });
  });

  it('resolves to null at once when the in-flight table is full', async () => {
    const silent = await fakeUpstream('127.0.0.1', true);
    const f = forwarder({ upstreams: [at(silent)], timeoutMs: 300, maxInflight: 2 });
    const first = f.forward(query(1, 'a.example.com'), 'udp');
    const second = f.forward(query(2, 'b.example.com'), 'udp');
    expect(await f.forward(query(3, 'c.example.com'), 'udp')).toBeNull();
    expect(f.inflight).toBe(2);
    expect(f.counters.rejectedFull).toBe(1);
    expect(await Promise.all([first, second])).toEqual([null, null]);
    expect(f.inflight).toBe(0);
    expect(await f.forward(query(4, 'd.example.com'), 'udp')).toBeNull(); // room again: times out
    expect(f.counters).toMatchObject({ rejectedFull: 1, timeouts: 3 });
  });

  it('passes a truncated reply back to UDP clients and re-asks over TCP for TCP clients', async () => {
    const fake = await fakeUpstream();
    const f = forwarder({ upstreams: [at(fake)] });
    const viaUdp = decode(await f.forward(query(20, 'big.example.com'), 'udp'));
    expect(viaUdp).toMatchObject({ id: 20, tc: true, answers: [] });
    const viaTcp = await f.forward(query(21, 'big.example.com'), 'tcp');
    expect(decode(viaTcp)).toMatchObject({ id: 21, tc: false });
    expect(addresses(viaTcp)).toHaveLength(40);
    expect(f.counters.tcpFallbacks).toBe(1);
  });

  it('forwards to IPv6 upstreams over its own socket', async () => {
    const fake = await fakeUpstream('::1');
    const f = forwarder({ upstreams: [at(fake)] });
    expect(addresses(await f.forward(query(30, 'www.example.com'), 'udp'))).toEqual(['192.0.2.1']);
  });

  it('settles pending queries with null on close()', async () => {
    const silent = await fakeUpstream('127.0.0.1', true);
    const f = new UdpForwarder({ upstreams: [at(silent)], timeoutMs: 10_000 });
    const pending = f.forward(query(40, 'a.example.com'), 'udp');
    await new Promise((r) => setTimeout(r, 20));
    await f.close();
    expect(await pending).toBeNull();
    expect(await f.forward(query(41, 'a.example.com'), 'udp')).toBeNull();
  });

  it('answers out-of-zone names for a real server', async () => {
    const fake = await fakeUpstream();
    const f = forwarder({ upstreams: [at(fake)] });
    const index = buildRecordIndex({
      localClusterId: 'local',
      connectedClusters: 'all',
      serviceImports: [],
      endpointSlices: [],
    }).index;
    const server = await startDnsServer({
      address: '127.0.0.1',
      port: 0,
      answerer: createAnswerer(index),
      forwarder: f,
    });
    cleanups.push(() => server.close());
    const client = createSocket('udp4');
    cleanups.push(() => new Promise<void>((resolve) => client.close(() => resolve())));
    const answer = await new Promise<Buffer>((resolve) => {
      client.on('message', resolve);
      client.send(query(0xbeef, 'www.example.com'), server.address().port, '127.0.0.1');
    });
    expect(decode(answer)).toMatchObject({ id: 0xbeef, rcode: 0 });
    expect(addresses(answer)).toEqual(['192.0.2.1']);
    expect(server.counters.forwarded).toBe(1);
  });
});
