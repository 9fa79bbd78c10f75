// Memory and CPU of a process from /proc: VmRSS and VmHWM in MiB, CPU time in seconds.
import { readdirSync, readFileSync } from 'node:fs';

export interface MemoryStats {
  rssMiB: number;
  hwmMiB: number;
}

export function memoryOf(pid: number): MemoryStats {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kib = (field: string) => {
    const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status);
    if (!m) throw new Error(`/proc/${pid}/status has no ${field}`);
    return Number(m[1]);
  };
  return { rssMiB: kib('VmRSS') / 1024, hwmMiB: kib('VmHWM') / 1024 };
}

/** User + system CPU seconds the process has used so far (children not included). */
export function cpuSecondsOf(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // fields[0] is field 3 (state); utime and stime are fields 14 and 15.
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

export function commandLineOf(pid: number): string[] {
  return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
}

/** PIDs whose command line is exactly `argv` (e.g. the wireguard-go of one interface). */
export function pidsWithCommandLine(argv: string[]): number[] {
  const want = argv.join('\0');
  const out: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (commandLineOf(Number(entry)).join('\0') === want) out.push(Number(entry));
    } catch {
      // gone, or not readable
    }
  }
  return out;
}
