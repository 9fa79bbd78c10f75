// Inbound on the egress IP (spec.ingress), as the e2e test and the smoke demo probe it: a server
// in a pod that answers with its pod name and the peer address it saw, and clients (in `fw`) that
// report which address answered them. Every probe is one short-lived process with its own
// deadline, so a dropped packet is an answer ("timeout"), never a hang.
import type { RunningProcess } from './process.ts';
import { waitFor } from './process.ts';
import type { Host } from './topology.ts';

// argv: name tcpPort udpPort. TCP: a greeting line "<name> <peer>", then every line echoed as
// "<name> <line>". UDP: each datagram answered with "<name> <peer>".
const SERVER = `const [name, tcpPort, udpPort] = process.argv.slice(1);
const net = require('node:net'), dgram = require('node:dgram');
let up = 0; const ready = () => { if (++up === 2) console.log('listening'); };
net.createServer((s) => {
  console.log('tcp ' + s.remoteAddress + ':' + s.remotePort);
  s.write(name + ' ' + s.remoteAddress + ':' + s.remotePort + '\\n');
  let buf = '';
  s.on('data', (d) => { buf += d; let i; while ((i = buf.indexOf('\\n')) >= 0) { s.write(name + ' ' + buf.slice(0, i) + '\\n'); buf = buf.slice(i + 1); } });
  s.on('error', () => {});
}).listen(Number(tcpPort), '0.0.0.0', ready);
const u = dgram.createSocket('udp4');
u.on('message', (m, r) => u.send(name + ' ' + r.address + ':' + r.port, r.port, r.address));
u.bind(Number(udpPort), '0.0.0.0', ready);`;

// argv: ip port. Prints "<remoteAddress> <greeting>" or "timeout"/"error".
const TCP_PROBE = `const [ip, port] = process.argv.slice(1);
const s = require('node:net').connect(Number(port), ip);
s.setTimeout(2000, () => { console.log('timeout'); process.exit(0); });
s.on('data', (d) => { console.log(s.remoteAddress + ' ' + d.toString().split('\\n')[0]); process.exit(0); });
s.on('error', (e) => { console.log('error ' + e.code); process.exit(0); });`;

// argv: ip port localPort... One datagram from each local port; prints one JSON line
// {localPort: "<reply source address>:<port> <reply>" | "timeout"}.
const UDP_PROBE = `const [ip, port, ...locals] = process.argv.slice(1);
const dgram = require('node:dgram'); const out = {}; let left = locals.length;
const done = () => { if (--left === 0) { console.log(JSON.stringify(out)); process.exit(0); } };
for (const lp of locals) {
  const s = dgram.createSocket('udp4');
  const t = setTimeout(() => { out[lp] = 'timeout'; s.close(); done(); }, 1500);
  s.on('message', (m, r) => { clearTimeout(t); out[lp] = r.address + ':' + r.port + ' ' + m; s.close(); done(); });
  s.bind(Number(lp), () => s.send('hi', Number(port), ip));
}`;

// argv: ip port. One connection kept open: a line every 100 ms, every answer logged as
// "echo <n> <epoch ms> <answer>"; any close or error ends the process.
const TCP_SESSION = `const [ip, port] = process.argv.slice(1);
const s = require('node:net').connect(Number(port), ip);
let n = 0, buf = '';
s.on('connect', () => { console.log('local ' + s.localPort + ' remote ' + s.remoteAddress); setInterval(() => s.write('x' + n + '\\n'), 100); });
s.on('data', (d) => { buf += d; let i; while ((i = buf.indexOf('\\n')) >= 0) { console.log('echo ' + ++n + ' ' + Date.now() + ' ' + buf.slice(0, i)); buf = buf.slice(i + 1); } });
s.on('close', () => { console.log('closed'); process.exit(1); });
s.on('error', (e) => { console.log('error ' + e.message); process.exit(1); });`;

/** Start the answering server in a pod; resolves once both sockets listen. */
export async function startInboundServer(
  pod: Host,
  name: string,
  tcpPort: number,
  udpPort: number,
): Promise<RunningProcess> {
  const p = pod.spawn(`inbound-${name}`, [
    process.execPath,
    '-e',
    SERVER,
    name,
    String(tcpPort),
    String(udpPort),
  ]);
  await waitFor(`inbound server in ${name}`, async () => {
    if (!p.running) throw new Error(`inbound server ${name} exited:\n${p.tail(10)}`);
    return p.log().includes('listening') ? true : undefined;
  });
  return p;
}

/** One TCP connection: "<address the client is connected to> <pod name> <peer the pod saw>",
 * or "timeout" / "error CODE". */
export async function probeTcp(client: Host, ip: string, port: number): Promise<string> {
  const r = await client.exec([process.execPath, '-e', TCP_PROBE, ip, String(port)], {
    allowFail: true,
    timeoutMs: 15_000,
  });
  return r.stdout.trim() || `no output: ${r.stderr.trim()}`;
}

/** One datagram from each local port: local port → "<reply source>:<port> <pod name> <peer>"
 * or "timeout". */
export async function probeUdp(
  client: Host,
  ip: string,
  port: number,
  localPorts: readonly number[],
): Promise<Record<string, string>> {
  const r = await client.exec(
    [process.execPath, '-e', UDP_PROBE, ip, String(port), ...localPorts.map(String)],
    { allowFail: true, timeoutMs: 15_000 },
  );
  try {
    return JSON.parse(r.stdout.trim()) as Record<string, string>;
  } catch {
    throw new Error(`udp probe printed ${JSON.stringify(r.stdout)} ${r.stderr}`);
  }
}

/** An open TCP connection that sends a line every 100 ms; `echoes()` counts the answers. */
export function openTcpSession(
  client: Host,
  ip: string,
  port: number,
): { proc: RunningProcess; echoes(): number; lastAnswer(): string; longestGapMs(): number } {
  const proc = client.spawn('inbound-session', [process.execPath, '-e', TCP_SESSION, ip, String(port)]);
  const lines = () => [...proc.log().matchAll(/^echo (\d+) (\d+) (.*)$/gm)];
  const last = () => lines().at(-1);
  return {
    proc,
    echoes: () => Number(last()?.[1] ?? 0),
    lastAnswer: () => last()?.[3] ?? '',
    /** The longest time between two answers: how long the connection stalled. */
    longestGapMs: () => {
      const t = lines().map((m) => Number(m[2]));
      return t.slice(1).reduce((max, x, i) => Math.max(max, x - (t[i] ?? x)), 0);
    },
  };
}
