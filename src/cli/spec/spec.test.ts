// The generated documents list exactly the options the parser accepts: --help, bash and zsh
// completion, the man page and the config file schema all come from one spec per command.

import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { skipOutsideCi } from '../../testing-ci.ts';
import { parseArgsOptions } from '../args.ts';
import { checkConfigText } from '../config-file.ts';
import { COMMAND_SPECS } from '../specs/index.ts';
import { renderBashCompletion, renderZshCompletion } from './completion.ts';
import { renderDefaultConfig } from './config-default.ts';
import { configLayout } from './config-schema.ts';
import { renderHelp } from './help.ts';
import { renderManPage } from './man.ts';
import { allOptions, walkCommands } from './types.ts';

// The files exactly as `npm run gen:docs` writes them (the paths shippkg packages).
const dir = mkdtempSync(join(tmpdir(), 'moor-spec-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
execFileSync(process.execPath, [join(import.meta.dirname, '../../../scripts/gen-docs.ts'), '--out', dir], {
  env: { ...process.env, SOURCE_DATE_EPOCH: '1767225600' },
});
const bashFile = join(dir, 'dist/completion/moor.bash');
const zshDir = join(dir, 'dist/completion');
const manFile = join(dir, 'dist/man/moor.1');
const man = readFileSync(manFile, 'utf8');

const has = (program: string) => spawnSync('sh', ['-c', `command -v ${program}`]).status === 0;
const sorted = (xs: Iterable<string>) => [...new Set(xs)].sort();

function bash(script: string): string {
  return execFileSync('bash', ['-c', `source ${bashFile}; ${script}`], { encoding: 'utf8' });
}

/** What bash completes for the words typed so far (the last one is being completed). */
function bashComplete(...words: string[]): string[] {
  const quoted = words.map((w) => `'${w}'`).join(' ');
  const out = bash(
    `COMP_WORDS=(${quoted}); COMP_CWORD=${words.length - 1}; _moor; printf '%s\\n' "\${COMPREPLY[@]}"`,
  );
  return out.split('\n').filter(Boolean);
}

function helpOptions(text: string): string[] {
  return [...text.matchAll(/^ {2}(?:-\w, )?--([a-z-]+)/gm)].map((m) => m[1] ?? '');
}

/** Long option names documented in the man page section of one command. */
function manOptions(path: string[]): string[] {
  const sections = man.split('\n.SS ');
  // roff escapes every hyphen: "moor node\-agent".
  const title = `moor ${path.join(' ')}`.replaceAll('-', '\\-');
  const section = sections.find((s) => s.startsWith(`"${title} `) || s.startsWith(`"${title}"`));
  if (!section) throw new Error(`no man page section for ${path.join(' ')}`);
  return [...section.matchAll(/^\.TP\n(?:\\fB\\-\w\\fR, )?\\fB\\-\\-([a-z\\-]+)\\fR/gm)].map((m) =>
    (m[1] ?? '').replace(/\\-/g, '-'),
  );
}

function zshOptions(path: string[]): string[] {
  const fn = `_moor_${path.join('_').replace(/-/g, '_')}`;
  const body = readFileSync(join(zshDir, '_moor'), 'utf8').split(`\n${fn}() {\n`)[1]?.split('\n}\n')[0];
  if (body === undefined) throw new Error(`no zsh function ${fn}`);
  return [...body.matchAll(/--([a-z][a-z-]*)[=[}]/g)].map((m) => m[1] ?? '');
}

describe('every generated document lists the options the parser accepts', () => {
  for (const { path, spec } of walkCommands(COMMAND_SPECS)) {
    it(`moor ${path.join(' ')}`, () => {
      const accepted = sorted(Object.keys(parseArgsOptions(spec)));
      expect(sorted(allOptions(spec).map((o) => o.name))).toEqual(accepted);
      expect(sorted(helpOptions(renderHelp(path, spec)))).toEqual(accepted);
      expect(sorted(manOptions(path))).toEqual(accepted);
      expect(sorted(zshOptions(path))).toEqual(accepted);
      const bashLong = bash(`_moor_options '${path.join(' ')}'`)
        .trim()
        .split(' ');
      expect(sorted(bashLong.filter((f) => f.startsWith('--')).map((f) => f.slice(2)))).toEqual(accepted);
      const shorts = allOptions(spec).flatMap((o) => (o.short ? [`-${o.short}`] : []));
      expect(sorted(bashLong.filter((f) => /^-\w$/.test(f)))).toEqual(sorted(shorts));
    });
  }

  it('the config schema holds exactly the options marked for the config file', () => {
    const layout = configLayout(COMMAND_SPECS);
    for (const spec of COMMAND_SPECS) {
      const marked = spec.options.filter((o) => o.config === 'command').map((o) => o.name);
      expect(sorted(layout.sections.get(spec.name)?.options.keys() ?? [])).toEqual(sorted(marked));
      for (const o of spec.options.filter((x) => x.config === 'global'))
        expect(layout.global.has(o.name)).toBe(true);
    }
    // Every key the schema allows is one the user can also give as a flag of that command.
    for (const [name, section] of layout.sections) {
      const flags = Object.keys(parseArgsOptions(section.spec));
      for (const key of section.options.keys()) expect(flags, `${name}.${key}`).toContain(key);
    }
  });
});

describe('bash completion', () => {
  it('completes command words, options, option values, subjects and file arguments', () => {
    expect(bashComplete('moor', 'jo')).toEqual(['join']);
    expect(bashComplete('moor', 'join', '--st')).toEqual(['--state-dir']);
    expect(bashComplete('moor', 'agent', '--wireguard-driver', '')).toEqual(['kernel', 'wireguard-go']);
    expect(bashComplete('moor', 'show', '-o', 'json', '')).toEqual(['connections', 'exports', 'services']);
    expect(bashComplete('moor', 'show', 'exports', '-o', '')).toEqual(['table', 'json']);
    // bash splits --flag=value at '='.
    expect(bashComplete('moor', 'join', '--check-broker-certificate', '=', 'f')).toEqual(['false']);
    expect(bashComplete('moor', 'export', '')).toEqual(['service']);
    expect(bashComplete('moor', 'config', 'check', join(zshDir, 'moor.b'))).toEqual([bashFile]);
  });
});

describe.skipIf(skipOutsideCi(!has('zsh')))('zsh completion', () => {
  // A real interactive zsh on a pseudo-terminal, with compinit loading the generated _moor. It
  // reads the terminal until `expected` shows up (no sleeping); a wrong completion never shows
  // it, and the timeout fails the test.
  function zshShows(line: string, expected: string): string {
    const script = `zmodload zsh/zpty
zpty z zsh -f -i
zpty -w z "PS1='%% '; fpath=(${zshDir} \\$fpath); autoload -Uz compinit; compinit -u -D; print RE''ADY"
zpty -r z line '*READY*'
zpty -w -n z ${JSON.stringify(line)}$'\\t'
zpty -r z out ${JSON.stringify(`*${expected}*`)}
print -r -- "$out"
zpty -d z`;
    return execFileSync('zsh', ['-f', '-c', script], { encoding: 'utf8', timeout: 20_000 });
  }

  it('loads with compinit and completes an option and an option value', () => {
    expect(zshShows('moor join --st', 'state-dir')).toContain('moor join --state-dir');
    expect(zshShows('moor agent --wireguard-driver ', 'wireguard-go')).toMatch(/kernel\s+wireguard-go/);
  });
});

describe('man page', () => {
  it.skipIf(skipOutsideCi(!has('groff')))('renders without a single groff warning', () => {
    const r = spawnSync('groff', ['-man', '-Tutf8', '-ww', '-z', manFile], { encoding: 'utf8' });
    expect(r.status).toBe(0);
    expect(r.stderr).toBe('');
  });
  it.skipIf(skipOutsideCi(!has('man')))('passes the check lintian runs (man --warnings)', () => {
    const r = spawnSync('man', ['--warnings', '-E', 'UTF-8', '-l', '-Tutf8', '-Z', manFile], {
      encoding: 'utf8',
      env: { ...process.env, LC_ALL: 'C.UTF-8', MANROFFSEQ: '', MANWIDTH: '80' },
    });
    expect(r.status).toBe(0);
    expect(r.stderr).toBe('');
  });
  it.skipIf(skipOutsideCi(!has('man')))('man -l shows every command', () => {
    const text = execFileSync('man', ['-l', manFile], {
      encoding: 'utf8',
      env: { ...process.env, MANWIDTH: '100' },
    });
    for (const spec of COMMAND_SPECS) expect(text).toContain(`moor ${spec.name}`);
  });
});

describe('packaging/config.yaml', () => {
  const committed = readFileSync(join(import.meta.dirname, '../../../packaging/config.yaml'), 'utf8');
  it('is what `npm run gen:docs` generates now', () => {
    expect(committed).toBe(renderDefaultConfig(COMMAND_SPECS));
    expect(readFileSync(join(dir, 'packaging/config.yaml'), 'utf8')).toBe(committed);
  });
  it("man page and completion are the generators' output, dated by SOURCE_DATE_EPOCH", () => {
    expect(man).toBe(
      renderManPage(COMMAND_SPECS, { version: '0.1.0', date: new Date('2026-01-01T00:00:00Z') }),
    );
    expect(readFileSync(bashFile, 'utf8')).toBe(renderBashCompletion(COMMAND_SPECS));
    expect(readFileSync(join(zshDir, '_moor'), 'utf8')).toBe(renderZshCompletion(COMMAND_SPECS));
  });
  it('is valid as shipped, and valid with every default uncommented', () => {
    expect(checkConfigText('config.yaml', committed)).toHaveProperty('data', {});
    // Uncomment keys (`#key:` and `#  key:`), leave descriptions commented; keys without a
    // default stay commented (an empty value is not valid).
    const uncommented = committed
      .split('\n')
      .map((l) =>
        /^#( {2})?[a-z][a-z-]*:( \S.*)?$/.test(l) && !/^#( {2})?[a-z-]+:$/.test(l) ? l.slice(1) : l,
      )
      .map((l) => (/^#[a-z][a-z-]*:$/.test(l) ? l.slice(1) : l))
      .join('\n');
    const checked = checkConfigText('config.yaml', uncommented);
    expect(checked).not.toHaveProperty('problems');
    const data = (checked as { data: Record<string, unknown> }).data;
    expect(data['state-dir']).toBe('/var/lib/moor');
    expect(data.agent).toMatchObject({ resync: 30, 'metrics-address': '127.0.0.1:9476' });
    expect(data.join).toMatchObject({ port: 4500, 'check-broker-certificate': true });
  });
});
