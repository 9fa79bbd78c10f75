// Read-only probes of the host for `moor diagnose`, and the tar.gz writer: the programs the
// support bundle needs, run through the CommandRunner port like every other program moor starts.
import { type CommandRunner, formatArgv } from './exec.ts';

export interface Probe {
  /** File name in the bundle. */
  file: string;
  argv: string[];
}

export interface ProbeOutput extends Probe {
  /** stdout, then stderr and the exit status when there is something to say. */
  text: string;
  ok: boolean;
}

/** What the kernel and the tools say about networking on this host. */
export function systemProbes(interfaceName: string): Probe[] {
  return [
    // WG_HIDE_KEYS=always: `wg show` prints "(hidden)" for the private and preshared keys even
    // when the caller's environment says otherwise. Never `wg show … dump`: it prints them.
    { file: 'wg-show.txt', argv: ['env', 'WG_HIDE_KEYS=always', 'wg', 'show', interfaceName] },
    { file: 'wg-show-all-interfaces.txt', argv: ['env', 'WG_HIDE_KEYS=always', 'wg', 'show', 'interfaces'] },
    { file: 'ip-link.txt', argv: ['ip', '-d', 'link', 'show'] },
    { file: 'ip-addr.txt', argv: ['ip', 'addr', 'show'] },
    { file: 'ip-route.txt', argv: ['ip', 'route', 'show', 'table', 'all'] },
    { file: 'ip6-route.txt', argv: ['ip', '-6', 'route', 'show', 'table', 'all'] },
    { file: 'ip-rule.txt', argv: ['ip', 'rule', 'show'] },
    { file: 'nft-ruleset.txt', argv: ['nft', 'list', 'ruleset'] },
    { file: 'resolvectl-status.txt', argv: ['resolvectl', 'status'] },
  ];
}

/** Versions of the programs moor drives. */
export function versionProbes(): Probe[] {
  return [
    { file: 'uname', argv: ['uname', '-a'] },
    { file: 'wg', argv: ['wg', '--version'] },
    { file: 'wireguard-go', argv: ['wireguard-go', '--version'] },
    { file: 'nft', argv: ['nft', '--version'] },
    { file: 'ip', argv: ['ip', '-V'] },
  ];
}

export function journalProbe(unit: string, lines: number): Probe {
  return {
    file: `journal-${unit}.txt`,
    argv: ['journalctl', '--unit', unit, '--lines', String(lines), '--no-pager', '--output', 'short-iso'],
  };
}

/** Run every probe; a missing program or a failure is part of the report, never an exception. */
export async function runProbes(runner: CommandRunner, probes: readonly Probe[]): Promise<ProbeOutput[]> {
  return Promise.all(
    probes.map(async (p) => {
      try {
        const r = await runner.run(p.argv, { allowNonZeroExit: true, timeoutMs: 10_000 });
        const ok = r.code === 0;
        // JSON stays JSON (what the command printed); text files say which command made them.
        if (p.file.endsWith('.json') && ok) return { ...p, ok, text: r.stdout };
        const stderr = r.stderr.trim() ? `# stderr:\n${r.stderr}` : '';
        const status = ok ? '' : `# exit ${r.code}\n`;
        return { ...p, ok, text: `# ${formatArgv(p.argv)}\n${r.stdout}${status}${stderr}` };
      } catch (err) {
        return { ...p, ok: false, text: `# ${formatArgv(p.argv)}\n# failed: ${(err as Error).message}\n` };
      }
    }),
  );
}

/** tar.gz of `entry` (a directory inside `parent`) at `outFile`, with the system tar. */
export async function writeTarGz(
  runner: CommandRunner,
  parent: string,
  entry: string,
  outFile: string,
): Promise<void> {
  await runner.run(['tar', '--create', '--gzip', '--file', outFile, '--directory', parent, '--', entry], {
    timeoutMs: 60_000,
  });
}
