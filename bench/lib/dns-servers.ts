// The servers of the DNS benchmark, each pinned to one CPU and listening on a free loopback port:
// moor's DNS server (bench/dns-serve.ts), dnsmasq with the same records as a hosts file, and a
// bare node:dgram reflector (bench/udp-reflect.ts) as the ceiling of a Node UDP server.
import { join } from 'node:path';
import { type RunningProcess, startProcess, waitFor } from '../../test/harness/process.ts';
import type { TestRun } from '../../test/harness/run.ts';
import { queryA } from './dns-client.ts';
import { freeLoopbackPort } from './free-port.ts';

const BENCH = join(import.meta.dirname, '..');

export interface DnsServerProcess {
  port: number;
  process: RunningProcess;
}

async function nodeServer(run: TestRun, name: string, script: string, cpu: number, args: string[]) {
  const port = await freeLoopbackPort();
  const argv = ['taskset', '-c', String(cpu), process.execPath, join(BENCH, script), '--port', String(port)];
  const proc = startProcess(run, name, [...argv, ...args]);
  await waitFor(name, () => (proc.log().includes('listening') ? true : undefined), {
    process: proc,
    timeoutMs: 30_000,
  });
  return { port, process: proc };
}

export function startMoorDns(run: TestRun, cpu: number, services: number): Promise<DnsServerProcess> {
  return nodeServer(run, 'moor-dns', 'dns-serve.ts', cpu, ['--services', String(services)]);
}

export function startUdpReflector(run: TestRun, cpu: number): Promise<DnsServerProcess> {
  return nodeServer(run, 'udp-reflect', 'udp-reflect.ts', cpu, []);
}

/** dnsmasq answering `hostsFile`'s names, authoritative (NXDOMAIN) for clusterset.local, TTL 5
 * like moor; `probe` is a name it must answer before it counts as up. */
export async function startDnsmasq(
  run: TestRun,
  cpu: number,
  hostsFile: string,
  probe: string,
): Promise<DnsServerProcess> {
  const port = await freeLoopbackPort();
  const proc = startProcess(run, 'dnsmasq', [
    'taskset',
    '-c',
    String(cpu),
    'dnsmasq',
    '--no-daemon',
    '--no-resolv',
    '--no-hosts',
    '--conf-file=/dev/null',
    `--pid-file=${join(run.dir, 'dnsmasq.pid')}`,
    '--port',
    String(port),
    '--listen-address',
    '127.0.0.1',
    '--bind-interfaces',
    `--addn-hosts=${hostsFile}`,
    '--local=/clusterset.local/',
    '--local-ttl=5',
  ]);
  await waitFor('dnsmasq', async () => ((await queryA(port, probe, 300)) ? true : undefined), {
    process: proc,
    timeoutMs: 20_000,
  });
  return { port, process: proc };
}
