// The DNS server's TCP limits against slow and greedy clients, on the real server over loopback.
// Clients come from different loopback source addresses (all of 127.0.0.0/8 is local on Linux),
// so per-client limits are exercised exactly as for remote hosts.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createAnswerer } from './answer.ts';
import { decodeMessage, encodeQuery } from './message.ts';
import { buildRecordIndex } from './records.ts';
import { type DnsServer, type DnsServerOptions, startDnsServer } from './server.ts';
import { frameMessage } from './tcp-framing.ts';
import { serviceImport, serviceIpSlice, tcp } from './testing.ts';
import { tcpClient, udpExchange } from './testing-sockets.ts';

const NAME = 'web.shop.svc.clusterset.local';
const answerer = createAnswerer(
  buildRecordIndex({
    localClusterId: 'local',
    connectedClusters: 'all',
    serviceImports: [serviceImport({ service: 'web', namespace: 'shop', ports: [tcp('http', 80)] })],
    endpointSlices: [serviceIpSlice('web', 'shop', 'east', '10.1.0.10', [tcp('http', 80)])],
  }).index,
);
const ATTACKER = '127.0.0.1';
const GOOD = '127.0.0.2';

const servers: DnsServer[] = [];
const sockets: Array<{ socket: { destroy(): void } }> = [];
afterEach(async () => {
  for (const c of sockets.splice(0)) c.socket.destroy();
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

async function start(options: Partial<DnsServerOptions>): Promise<{ server: DnsServer; port: number }> {
  const server = await startDnsServer({ address: '127.0.0.1', port: 0, answerer, ...options });
  servers.push(server);
  return { server, port: server.address().port };
}

function client(port: number, from: string) {
  const c = tcpClient(port, { localAddress: from });
  sockets.push(c);
  return c;
}

/** The A answer for NAME, as the client decoded it: proves a real answer, not just bytes. */
function answerOf(reply: Buffer | null | undefined): string | undefined {
  if (!reply) return undefined;
  const decoded = decodeMessage(reply);
  if (!decoded.ok) return undefined;
  const a = decoded.message.answers.find((r) => r.rdata.kind === 'A')?.rdata;
  return a?.kind === 'A' ? a.address : undefined;
}

async function tcpAnswer(port: number, from: string, id: number): Promise<string | undefined> {
  const c = client(port, from);
  c.socket.write(frameMessage(encodeQuery({ id, name: NAME, type: 1 })));
  const [reply] = await c.waitFor(1);
  c.socket.destroy();
  return answerOf(reply);
}

const connected = (c: ReturnType<typeof client>) =>
  new Promise<void>((resolve) => c.socket.once('connect', () => resolve()));

describe('DNS over TCP: per-client limits', () => {
  it('refuses a client beyond its share while another client is served', async () => {
    const { server, port } = await start({ tcpMaxConnectionsPerClient: 3, tcpMaxConnections: 100 });
    const held = Array.from({ length: 3 }, () => client(port, ATTACKER));
    await Promise.all(held.map(connected));
    await vi.waitFor(() => expect(server.counters.tcpActive).toBe(3));
    const extra = client(port, ATTACKER);
    await extra.closed;
    expect(server.counters.tcpRejectedPerClient).toBe(1);
    expect(await tcpAnswer(port, GOOD, 7)).toBe('10.1.0.10');
    // The attacker's held connections still work: limits refuse, they do not punish.
    held[0]?.socket.write(frameMessage(encodeQuery({ id: 8, name: NAME, type: 1 })));
    expect(answerOf((await held[0]?.waitFor(1))?.[0])).toBe('10.1.0.10');
  });

  it('when every slot is taken, a new client takes one from the client holding the most', async () => {
    const { server, port } = await start({ tcpMaxConnectionsPerClient: 8, tcpMaxConnections: 4 });
    const greedy = Array.from({ length: 4 }, () => client(port, ATTACKER));
    await Promise.all(greedy.map(connected));
    await vi.waitFor(() => expect(server.counters.tcpActive).toBe(4));
    expect(await tcpAnswer(port, GOOD, 9)).toBe('10.1.0.10');
    expect(server.counters.tcpEvicted).toBe(1);
    await greedy[0]?.closed; // the oldest of the greedy client's connections went
    // A fifth connection of the greedy client itself is refused: it already holds the most.
    await vi.waitFor(() => expect(server.counters.tcpActive).toBe(3));
    const more = [client(port, ATTACKER), client(port, ATTACKER)];
    await more[1]?.closed;
    expect(server.counters.tcpRejected).toBe(1);
  });
});

describe('DNS over TCP: time limits', () => {
  it('bytes trickled into a frame do not keep a connection open past the idle timeout', async () => {
    const { server, port } = await start({ tcpIdleTimeoutMs: 400, tcpMessageTimeoutMs: 60_000 });
    const slow = client(port, ATTACKER);
    await connected(slow);
    const frame = frameMessage(encodeQuery({ id: 1, name: NAME, type: 1 }));
    let sent = 0;
    const started = Date.now();
    const dribble = setInterval(() => {
      if (sent < frame.length - 1 && !slow.socket.destroyed) slow.socket.write(frame.subarray(sent, ++sent));
    }, 30);
    try {
      await slow.closed;
    } finally {
      clearInterval(dribble);
    }
    expect(sent).toBeGreaterThan(2); // it was sending all along
    expect(Date.now() - started).toBeLessThan(frame.length * 30); // and was cut before it finished
    expect(server.counters.tcpIdleTimeouts).toBe(1);
    expect(slow.replies).toHaveLength(0);
  });

  it('a message must be complete within the message deadline of its first byte', async () => {
    const { server, port } = await start({ tcpIdleTimeoutMs: 60_000, tcpMessageTimeoutMs: 300 });
    const partial = client(port, ATTACKER);
    partial.socket.write(Buffer.from([0, 40, 1, 2]));
    const steady = client(port, GOOD);
    // A client that sends whole messages is not subject to the message deadline.
    for (let i = 0; i < 4; i++) {
      steady.socket.write(frameMessage(encodeQuery({ id: 100 + i, name: NAME, type: 1 })));
      await steady.waitFor(i + 1);
      await new Promise((r) => setTimeout(r, 150));
    }
    await partial.closed;
    expect(server.counters.tcpMessageTimeouts).toBe(1);
    expect(steady.socket.destroyed).toBe(false);
    expect(steady.replies.map(answerOf)).toEqual(['10.1.0.10', '10.1.0.10', '10.1.0.10', '10.1.0.10']);
  });
});

describe('DNS under a TCP slow-client flood', () => {
  it('keeps answering UDP and well-behaved TCP clients from another source', async () => {
    const { server, port } = await start({
      tcpMaxConnections: 32,
      tcpMaxConnectionsPerClient: 8,
      tcpIdleTimeoutMs: 2_000,
      tcpMessageTimeoutMs: 1_000,
    });
    // The attacker keeps opening connections and trickles a byte into each every 100 ms.
    const flood = new Set<ReturnType<typeof client>>();
    const opener = setInterval(() => {
      for (let i = 0; i < 10; i++) {
        const c = client(port, ATTACKER);
        flood.add(c);
        void c.closed.then(() => flood.delete(c));
      }
    }, 50);
    const trickle = setInterval(() => {
      for (const c of flood) if (!c.socket.destroyed) c.socket.write(Buffer.from([1])); // never a zero-length prefix
    }, 100);
    try {
      const answers: Array<string | undefined> = [];
      for (let i = 0; i < 20; i++) {
        answers.push(await tcpAnswer(port, GOOD, 200 + i));
        answers.push(answerOf(await udpExchange(port, [encodeQuery({ id: 300 + i, name: NAME, type: 1 })])));
        await new Promise((r) => setTimeout(r, 100));
      }
      expect(answers.filter((a) => a === '10.1.0.10')).toHaveLength(40);
    } finally {
      clearInterval(opener);
      clearInterval(trickle);
    }
    expect(server.counters.tcpRejectedPerClient).toBeGreaterThan(50);
    expect(server.counters.tcpActive).toBeLessThanOrEqual(32);
  });
});
