// What a benchmark section is and what it gets to work with.
import type { OracleEnv } from './oracle-env.ts';
import type { Figure, Report } from './report.ts';

export interface SectionContext {
  readonly name: string;
  readonly report: Report;
  log(line: string): void;
  figure(f: Omit<Figure, 'section'>): void;
  note(text: string): void;
  /** The shared single-cluster environment (built on first use, torn down by the runner). */
  oracle(): Promise<OracleEnv>;
}

export interface Section {
  name: string;
  /** What it measures, for --list and the log. */
  title: string;
  /** Whether it uses the shared oracle environment. */
  usesOracle: boolean;
  /** A watchdog: the section is declared failed after this long. */
  timeoutMs: number;
  run(ctx: SectionContext): Promise<void>;
}
