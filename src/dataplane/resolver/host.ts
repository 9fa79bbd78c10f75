// What the host resolver integration reads and writes on the host, behind two seams: a root
// directory that every file path is resolved under (tests use a temp dir), and the CommandRunner.
// Paths in commands and in the record are the host's own paths ("/etc/dnsmasq.d/..."); only file
// access goes through `at()`.
import { existsSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { isIPv6 } from 'node:net';
import { dirname, join } from 'node:path';
import type { CommandResult, CommandRunner } from '../exec.ts';
import { parseNameservers } from '../host-network.ts';

export interface HostAccess {
  /** '/' on a real host. */
  readonly root: string;
  readonly runner: CommandRunner;
}

/** The address our DNS server listens on, as the host resolvers are told about it. */
export interface DnsServerAddress {
  readonly address: string;
  readonly port: number;
}

export function at(host: HostAccess, path: string): string {
  return host.root === '/' ? path : join(host.root, path);
}

export function readText(host: HostAccess, path: string): string | null {
  try {
    return readFileSync(at(host, path), 'utf8');
  } catch {
    return null;
  }
}

export function exists(host: HostAccess, path: string): boolean {
  return existsSync(at(host, path));
}

/** Atomic replace (temp file + rename). The temp name starts with a dot: dnsmasq skips such files
 * in a conf-dir and unbound's `*.conf` include does not match it, so neither can read half a file. */
export function writeText(host: HostAccess, path: string, content: string, mode = 0o644): void {
  const target = at(host, path);
  const tmp = join(dirname(target), `.moor-${process.pid}.tmp`);
  writeFileSync(tmp, content, { mode });
  renameSync(tmp, target);
}

export function removeFile(host: HostAccess, path: string): void {
  rmSync(at(host, path), { force: true });
}

/** Runs a read-only probe; a program that is missing or fails gives null or its non-zero result. */
export async function probe(host: HostAccess, argv: string[]): Promise<CommandResult | null> {
  try {
    return await host.runner.run(argv, { allowNonZeroExit: true, timeoutMs: 10_000 });
  } catch {
    return null;
  }
}

/** sd_booted(): the host runs systemd as init. */
export function hasSystemd(host: HostAccess): boolean {
  return exists(host, '/run/systemd/system');
}

/** A system service is running: its systemd unit is active, or (without systemd) a process of
 * that name exists. The unit check ignores private instances such as libvirt's dnsmasq. */
export async function serviceRunning(host: HostAccess, unit: string, program: string): Promise<boolean> {
  if (hasSystemd(host)) {
    const r = await probe(host, ['systemctl', 'is-active', unit]);
    return r?.code === 0 && r.stdout.trim() === 'active';
  }
  const r = await probe(host, ['pidof', program]);
  return r?.code === 0 && r.stdout.trim() !== '';
}

/**
 * Lines of a config file without comments and blank lines. `inline`: a '#' anywhere starts a
 * comment (unbound); otherwise only at the start of a line (dnsmasq, whose `server=` values
 * contain '#port'; resolv.conf, which also knows ';').
 */
export function configLines(text: string, inline = false): string[] {
  return text
    .split('\n')
    .map((line) => (inline ? line.replace(/#.*$/, '') : line).trim())
    .filter((line) => line !== '' && !line.startsWith('#') && !line.startsWith(';'));
}

export function resolvConfNameservers(host: HostAccess): string[] {
  return parseNameservers(readText(host, '/etc/resolv.conf') ?? '');
}

export function isLoopback(address: string): boolean {
  return address.startsWith('127.') || address === '::1';
}

/** resolvectl's "ADDRESS[:PORT]" (systemd >= 246). */
export function resolvedServerSyntax(server: DnsServerAddress): string {
  if (server.port === 53) return server.address;
  return isIPv6(server.address) ? `[${server.address}]:${server.port}` : `${server.address}:${server.port}`;
}

/** dnsmasq's "ADDRESS[#PORT]". */
export function dnsmasqServerSyntax(server: DnsServerAddress): string {
  return server.port === 53 ? server.address : `${server.address}#${server.port}`;
}

/** unbound's "ADDRESS[@PORT]". */
export function unboundServerSyntax(server: DnsServerAddress): string {
  return server.port === 53 ? server.address : `${server.address}@${server.port}`;
}
