// `moor diagnose`: the support bundle. Everything is collected into a private temporary
// directory, every text passes the Redactor (so no secret of the host is written even there),
// and the system tar packs it. Collection never fails on a missing piece: what could not be
// collected is listed in errors.txt, so a half-broken host still gets a bundle.
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { readStatus } from '../cables/status.ts';
import {
  type CommandRunner,
  journalProbe,
  type ProbeOutput,
  runProbes,
  systemProbes,
  versionProbes,
  writeTarGz,
} from '../dataplane/index.ts';
import { hostSecrets, Redactor, redactedState } from './redact.ts';
import { AGENT_UNIT } from './service.ts';
import { DEFAULT_INTERFACE, type HostState, loadPrivateKey, loadState } from './state.ts';

export interface DiagnoseRequest {
  stateDir: string;
  /** The config file in use, when there is one. */
  configPath?: string;
  /** Where the tar.gz goes. */
  output: string;
  logLines: number;
  /** argv that runs this moor (the bundle's status files are its real output). */
  moorArgv: string[];
  version: string;
}

export interface DiagnoseResult {
  path: string;
  files: string[];
  redactions: number;
  problems: string[];
}

const RESOLVER_FILES = ['/etc/resolv.conf', '/etc/nsswitch.conf'];
const RESOLVER_DROPIN_DIRS = [
  '/etc/dnsmasq.d',
  '/etc/unbound/unbound.conf.d',
  '/etc/systemd/resolved.conf.d',
];
const STATE_FILES_SHOWN = ['status.json', 'exports.json'];

/** The last `lines` lines of a log. */
function tail(text: string, lines: number): string {
  const all = text.endsWith('\n') ? text.slice(0, -1).split('\n') : text.split('\n');
  if (all.length <= lines) return text;
  return `… (${all.length - lines} earlier lines left out)\n${all.slice(-lines).join('\n')}\n`;
}

export function defaultBundleName(now: Date): string {
  return `moor-diagnose-${hostname()}-${now.toISOString().replace(/[:.]/g, '').slice(0, 15)}Z.tar.gz`;
}

export async function writeSupportBundle(
  req: DiagnoseRequest,
  runner: CommandRunner,
): Promise<DiagnoseResult> {
  const problems: string[] = [];
  let state: HostState | undefined;
  try {
    state = loadState(req.stateDir);
  } catch (err) {
    problems.push(`state: ${(err as Error).message}`);
  }
  const redactor = new Redactor(hostSecrets(state, loadPrivateKey(req.stateDir)));
  const work = mkdtempSync(join(tmpdir(), 'moor-diagnose-'));
  chmodSync(work, 0o700);
  const entry = basename(req.output).replace(/\.tar\.gz$|\.tgz$/, '') || 'moor-diagnose';
  const root = join(work, entry);
  const files: string[] = [];
  const put = (name: string, text: string) => {
    const path = join(root, name);
    mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
    writeFileSync(path, redactor.scrub(text), { mode: 0o600 });
    files.push(name);
  };
  const record = (outputs: ProbeOutput[], prefix = '') => {
    for (const o of outputs) {
      put(`${prefix}${o.file}`, o.text);
      if (!o.ok)
        problems.push(`${prefix}${o.file}: ${o.text.split('\n').slice(1).join(' ').trim().slice(0, 200)}`);
    }
  };
  try {
    const moor = (args: string[]) => [
      ...req.moorArgv,
      ...args,
      '--state-dir',
      req.stateDir,
      ...(req.configPath ? ['--config', req.configPath] : []),
    ];
    const commandProbes = [
      { file: 'status.txt', argv: moor(['status']) },
      { file: 'status.json', argv: moor(['status', '-o', 'json']) },
      { file: 'connections.json', argv: moor(['show', 'connections', '-o', 'json']) },
      { file: 'exports.txt', argv: moor(['show', 'exports']) },
    ];
    const interfaceName = state?.interfaceName ?? DEFAULT_INTERFACE;
    const withSystemd = existsSync('/run/systemd/system');
    const [moorOut, systemOut, versionOut, journalOut] = await Promise.all([
      runProbes(runner, commandProbes),
      runProbes(runner, systemProbes(interfaceName)),
      runProbes(runner, versionProbes()),
      withSystemd ? runProbes(runner, [journalProbe(AGENT_UNIT, req.logLines)]) : Promise.resolve([]),
    ]);
    record(moorOut, 'moor/');
    record(systemOut, 'system/');
    put(
      'versions.txt',
      [
        `moor ${req.version}`,
        `node ${process.versions.node}`,
        ...versionOut.map((o) => o.text.trim()),
        readOptional('/etc/os-release') ?? '# no /etc/os-release',
      ].join('\n\n'),
    );
    put('system/resolver.txt', resolverReport());
    collectState(req, state, put, problems);
    if (req.configPath && existsSync(req.configPath)) put('config.yaml', readOptional(req.configPath) ?? '');
    for (const o of journalOut) put(`logs/${o.file}`, o.text);
    if (!withSystemd)
      problems.push(
        `logs: no systemd here, so no journal of ${AGENT_UNIT}; log files of the state directory are included`,
      );
    for (const name of safeReaddir(req.stateDir).filter((n) => n.endsWith('.log')))
      put(`logs/${name}`, tail(readOptional(join(req.stateDir, name)) ?? '', req.logLines));
    put(
      'README.txt',
      [
        `moor support bundle, written ${new Date().toISOString()} by moor ${req.version} on ${hostname()}.`,
        `State directory: ${req.stateDir}.`,
        'Secrets (WireGuard private key, preshared key, clusterset PSK, broker token, broker CA) are replaced by [REDACTED …].',
        '',
        'Could not be collected:',
        ...(problems.length > 0 ? problems.map((p) => `- ${p}`) : ['- nothing']),
        '',
      ].join('\n'),
    );
    mkdirSync(dirname(req.output), { recursive: true });
    await writeTarGz(runner, work, entry, req.output);
    chmodSync(req.output, 0o600);
    return { path: req.output, files: files.sort(), redactions: redactor.count, problems };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

function collectState(
  req: DiagnoseRequest,
  state: HostState | undefined,
  put: (name: string, text: string) => void,
  problems: string[],
): void {
  const names = safeReaddir(req.stateDir);
  const listing = names.map((n) => {
    try {
      const s = statSync(join(req.stateDir, n));
      return `${(s.mode & 0o7777).toString(8).padStart(4, '0')} ${String(s.size).padStart(9)} ${s.mtime.toISOString()} ${n}${s.isDirectory() ? '/' : ''}`;
    } catch (err) {
      return `? ${n}: ${(err as Error).message}`;
    }
  });
  put('state/files.txt', `# ${req.stateDir}\n${listing.join('\n')}\n`);
  if (state) put('state/state.json', `${JSON.stringify(redactedState(state), null, 2)}\n`);
  for (const n of STATE_FILES_SHOWN) {
    const text = readOptional(join(req.stateDir, n));
    if (text !== undefined) put(`state/${n}`, text);
  }
  if (readStatus(req.stateDir) === undefined)
    problems.push('state/status.json: the agent has not written a status');
}

function resolverReport(): string {
  const out: string[] = [];
  for (const f of RESOLVER_FILES) out.push(`# ${f}`, readOptional(f) ?? '(absent)', '');
  for (const dir of RESOLVER_DROPIN_DIRS) {
    const names = safeReaddir(dir).filter((n) => n.includes('moor') || n.includes('clusterset'));
    out.push(`# ${dir}: ${names.length === 0 ? 'no moor drop-in' : names.join(', ')}`);
    for (const n of names) out.push(`## ${join(dir, n)}`, readOptional(join(dir, n)) ?? '(unreadable)');
    out.push('');
  }
  return out.join('\n');
}

function readOptional(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

function safeReaddir(dir: string): string[] {
  try {
    return readdirSync(dir).sort();
  } catch {
    return [];
  }
}
