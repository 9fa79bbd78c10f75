// The config file (/etc/moor/config.yaml, or --config / $MOOR_CONFIG): read, parsed with the
// `yaml` package (its node ranges and a LineCounter give each key's line), and validated by the
// zod schema generated from the command specs. Every problem becomes one line naming the file,
// the line, the key, what is wrong and what is allowed.
import { statSync } from 'node:fs';
import { type Document, isMap, isPair, isScalar, isSeq, LineCounter, type Node, parseDocument } from 'yaml';
import type { z } from 'zod';
import { MoorError } from '../errors.ts';
import { readInputFile } from '../inputFile.ts';
import { errnoCode } from '../systemError.ts';
import {
  type ConfigData,
  type ConfigLayout,
  type ConfigValue,
  configLayout,
  configSchema,
} from './spec/config-schema.ts';
import { allowedText, CONFIG_ENV, DEFAULT_CONFIG_PATH, type OptionSpec } from './spec/types.ts';
import { COMMAND_SPECS } from './specs/index.ts';

export interface LoadedConfig {
  path: string;
  /** False when the default file does not exist (built-in defaults apply). */
  found: boolean;
  data: ConfigData;
}

const MAX_CONFIG_BYTES = 1024 * 1024;

let cachedLayout: ConfigLayout | undefined;
let cachedSchema: z.ZodType<ConfigData> | undefined;
function layout(): ConfigLayout {
  cachedLayout ??= configLayout(COMMAND_SPECS);
  return cachedLayout;
}
function schema(): z.ZodType<ConfigData> {
  cachedSchema ??= configSchema(layout());
  return cachedSchema;
}

/** The file to read: the flag, else $MOOR_CONFIG, else the default path; `origin` names the source. */
export function configPath(
  flag?: string,
  flagName = '--config',
): { path: string; explicit: boolean; origin?: string } {
  if (flag !== undefined) return { path: flag, explicit: true, origin: flagName };
  const env = process.env[CONFIG_ENV];
  if (env) return { path: env, explicit: true, origin: `$${CONFIG_ENV}` };
  return { path: DEFAULT_CONFIG_PATH, explicit: false };
}

function readConfigText(path: string, origin: string | undefined): string | undefined {
  if (origin === undefined) {
    // The default file is optional: absent means built-in defaults.
    try {
      statSync(path);
    } catch (err) {
      if (errnoCode(err) === 'ENOENT') return undefined;
    }
  }
  return readInputFile(path, {
    what: 'config file',
    maxBytes: MAX_CONFIG_BYTES,
    allowEmpty: true,
    missingCode: 'not-found',
    missingHint: `it was named by ${origin}: create it (${DEFAULT_CONFIG_PATH} as packaged lists every key, commented out), or name another file`,
    hint: `give moor's YAML config file, or run without one: --config ''`,
  }).toString('utf8');
}

export function loadConfig(flag?: string, flagName?: string): LoadedConfig {
  if (flag === '') return { path: '', found: false, data: {} }; // --config '': no file at all
  const { path, origin } = configPath(flag, flagName);
  const text = readConfigText(path, origin);
  if (text === undefined) return { path, found: false, data: {} };
  const checked = checkConfigText(path, text);
  if ('problems' in checked) {
    throw new MoorError('invalid-input', checked.problems.join('\n'), {
      hint: `correct ${path} (\`moor config check ${path}\` checks it without starting anything), or run without it: --config ''`,
    });
  }
  return { path, found: true, data: checked.data };
}

/** Validate a file's text; problems are complete `FILE:LINE: key: …` lines. */
export function checkConfigText(path: string, text: string): { data: ConfigData } | { problems: string[] } {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length > 0) {
    return {
      problems: doc.errors.slice(0, 1).map((e) => {
        const at = lineCounter.linePos(e.pos[0]);
        const reason = e.message.split('\n')[0]?.replace(/ at line \d+, column \d+:?$/, '');
        return `${path}:${at.line}:${at.col}: not valid YAML: ${reason}`;
      }),
    };
  }
  // An empty file, or one with only comments, sets nothing.
  const value: unknown = doc.contents === null ? {} : doc.toJS();
  const result = schema().safeParse(value);
  if (result.success) return { data: result.data };
  const lineOf = (node: Node | null | undefined) =>
    node?.range ? lineCounter.linePos(node.range[0]).line : 1;
  const problems: string[] = [];
  for (const issue of result.error.issues) {
    const path_ = issue.path.map(String);
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) {
        const node = keyNode(doc, [...path_, key]);
        problems.push(`${path}:${lineOf(node)}: ${unknownKey(path_, key)}`);
      }
      continue;
    }
    const node = keyNode(doc, path_);
    const option = optionAt(path_);
    const where = path_.length === 0 ? '(top level)' : path_.join('.');
    if (option === undefined) {
      const shape = path_.length === 0 ? 'the file' : `section ${where}`;
      problems.push(
        `${path}:${lineOf(node)}: ${where}: ${shape} must be a mapping of keys to values, like "${path_.length === 0 ? 'agent: {resync: 30}' : 'resync: 30'}"`,
      );
      continue;
    }
    // A path one longer than the option's is an element of a list.
    const element = path_.length > (layout().global.has(path_[0] ?? '') ? 1 : 2);
    const allowed = element ? (option.allowed ?? 'a string') : allowedText(option);
    problems.push(`${path}:${lineOf(node)}: ${where}: ${describeValue(doc, path_)}; allowed: ${allowed}`);
  }
  return { problems };
}

function optionAt(path: string[]): OptionSpec | undefined {
  const l = layout();
  if (path.length === 0) return undefined;
  const [first, second] = path;
  if (first === undefined) return undefined;
  const global = l.global.get(first);
  if (global) return global;
  if (second === undefined) return undefined;
  return l.sections.get(first)?.options.get(second);
}

function unknownKey(parent: string[], key: string): string {
  const l = layout();
  const at = [...parent, key].join('.');
  if (parent.length === 0) {
    const known = [...l.global.keys(), ...l.sections.keys()];
    const owners = [...l.sections].filter(([, s]) => s.options.has(key)).map(([n]) => n);
    if (owners.length > 0)
      return `unknown top-level key "${key}": it belongs in a command section (${owners.map((o) => `${o}:`).join(', ')})`;
    return `unknown key "${key}"${didYouMean(key, known)}; allowed at the top level: ${known.join(', ')}`;
  }
  const sectionName = parent[0] ?? '';
  const section = l.sections.get(sectionName);
  const known = section ? [...section.options.keys()] : [];
  const flagOnly = section?.spec.options.find((o) => o.name === key && o.config === undefined);
  if (flagOnly) return `${at}: "${key}" cannot be set in the config file, only as the flag --${key}`;
  if (l.global.has(key))
    return `${at}: "${key}" is a top-level key (it applies to every command): move it out of ${sectionName}:`;
  return `unknown key "${at}"${didYouMean(key, known)}; allowed in ${sectionName}: ${known.join(', ')}`;
}

function describeValue(doc: Document, path: string[]): string {
  const node = doc.getIn(path, true);
  if (node === undefined || (isScalar(node) && node.value === null)) return 'no value given';
  if (isScalar(node)) {
    const v = node.value;
    return `${typeof v === 'string' ? JSON.stringify(v) : String(v)} (${typeof v === 'string' ? 'a string' : typeof v === 'number' ? 'a number' : typeof v === 'boolean' ? 'a boolean' : typeof v}) is not allowed`;
  }
  if (isSeq(node)) return 'a list is not allowed here';
  if (isMap(node)) return 'a mapping is not allowed here';
  return 'this value is not allowed';
}

/** The node to point at for a path: the key of the last mapping entry, or a list element. */
function keyNode(doc: Document, path: string[]): Node | undefined {
  let node: unknown = doc.contents;
  let found: Node | undefined = doc.contents ?? undefined;
  for (const step of path) {
    if (isMap(node)) {
      const pair = node.items.find((p) => isPair(p) && isScalar(p.key) && String(p.key.value) === step);
      if (!pair) return found;
      found = (pair.key as Node) ?? found;
      node = pair.value;
    } else if (isSeq(node)) {
      const item = node.items[Number(step)];
      if (!item) return found;
      found = item as Node;
      node = item;
    } else {
      return found;
    }
  }
  return found;
}

/** ` (did you mean "pool"?)` when a known key is a small typo away. */
export function didYouMean(word: string, known: readonly string[]): string {
  let best: string | undefined;
  let bestDistance = Number.POSITIVE_INFINITY;
  for (const k of known) {
    const d = editDistance(word.toLowerCase(), k);
    if (d < bestDistance) {
      best = k;
      bestDistance = d;
    }
  }
  const limit = Math.max(1, Math.floor(word.length / 3));
  return best !== undefined && bestDistance <= limit ? ` (did you mean "${best}"?)` : '';
}

/** Edits (insert, delete, substitute, swap two neighbours) that turn `a` into `b`. */
function editDistance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) =>
    Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)),
  );
  const at = (i: number, j: number) => d[i]?.[j] ?? Number.POSITIVE_INFINITY;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(at(i - 1, j) + 1, at(i, j - 1) + 1, at(i - 1, j - 1) + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1])
        best = Math.min(best, at(i - 2, j - 2) + 1);
      (d[i] as number[])[j] = best;
    }
  }
  return at(a.length, b.length);
}

/** The file's value for one option of a command, if it sets one. */
export function configValue(
  config: LoadedConfig,
  command: string,
  option: OptionSpec,
): ConfigValue | undefined {
  if (option.config === 'global') {
    const v = config.data[option.name];
    return typeof v === 'object' && !Array.isArray(v) ? undefined : v;
  }
  if (option.config === 'command') {
    const section = config.data[command];
    if (typeof section === 'object' && section !== null && !Array.isArray(section))
      return section[option.name];
  }
  return undefined;
}
