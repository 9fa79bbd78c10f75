// Collects the figures of a benchmark run: prints each as it is measured, then a summary table,
// and writes everything as JSON. Figures are reported, never asserted.
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, release } from 'node:os';
import { dirname } from 'node:path';
import { fmt } from './stats.ts';

export interface Figure {
  section: string;
  name: string;
  value: number;
  unit: string;
  /** The goal, in words (e.g. "≤ 2000"), when the brief sets one. */
  target?: string;
  /** Whether the goal is met, when there is one. */
  met?: boolean;
  samples?: number[];
  digits?: number;
}

export interface SectionOutcome {
  name: string;
  ok: boolean;
  seconds: number;
  error?: string;
}

export class Report {
  readonly figures: Figure[] = [];
  readonly sections: SectionOutcome[] = [];
  readonly notes: Array<{ section: string; text: string }> = [];
  readonly startedAt = new Date();
  /** 1-minute load average at the start and at the end: other work on the machine skews figures. */
  readonly load = { start: loadavg()[0] ?? 0, end: 0 };

  figure(f: Figure): void {
    this.figures.push(f);
    const samples = f.samples ? `  [${f.samples.map((s) => fmt(s, f.digits ?? 0)).join(', ')}]` : '';
    const target = f.target ? `  (target ${f.target}: ${f.met ? 'met' : 'NOT met'})` : '';
    console.log(`  ${f.name}: ${fmt(f.value, f.digits ?? 0)} ${f.unit}${samples}${target}`);
  }

  note(section: string, text: string): void {
    this.notes.push({ section, text });
    console.log(`  note: ${text}`);
  }

  printSummary(): void {
    this.load.end = loadavg()[0] ?? 0;
    const rows = this.figures.map((f) => [
      f.section,
      f.name,
      fmt(f.value, f.digits ?? 0),
      f.unit,
      f.target ? `${f.target} ${f.met ? '✓' : '✗'}` : '',
    ]);
    const header = ['section', 'measure', 'value', 'unit', 'target'];
    const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
    const line = (cells: string[]) =>
      cells.map((c, i) => (i === 2 ? c.padStart(widths[i] ?? 0) : c.padEnd(widths[i] ?? 0))).join('  ');
    console.log(`\n${'='.repeat(20)} summary ${'='.repeat(20)}`);
    console.log(line(header));
    console.log(widths.map((w) => '-'.repeat(w)).join('  '));
    for (const r of rows) console.log(line(r));
    console.log(
      `\nload average (1 min): ${fmt(this.load.start, 2)} at start, ${fmt(this.load.end, 2)} at end`,
    );
    for (const s of this.sections) {
      console.log(
        `section ${s.name.padEnd(10)} ${s.ok ? 'ok    ' : 'FAILED'} ${fmt(s.seconds, 1)} s${s.error ? `  ${s.error.split('\n')[0]}` : ''}`,
      );
    }
  }

  writeJson(path: string): void {
    mkdirSync(dirname(path), { recursive: true });
    const body = {
      startedAt: this.startedAt.toISOString(),
      finishedAt: new Date().toISOString(),
      machine: {
        cpus: cpus().length,
        cpuModel: cpus()[0]?.model ?? '',
        kernel: release(),
        node: process.version,
        loadAverage1m: this.load,
      },
      sections: this.sections,
      figures: this.figures,
      notes: this.notes,
    };
    writeFileSync(path, `${JSON.stringify(body, null, 2)}\n`);
  }
}
