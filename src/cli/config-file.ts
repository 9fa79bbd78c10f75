// The config file (/etc/moor/config.yaml, or --config / $MOOR_CONFIG): read, parsed with the
// `yaml` package (its node ranges and a LineCounter give each key's line), and validated by the
// zod schema generated from the command specs. Every problem becomes one line naming the file,
// the line, the key, what is wrong and what is allowed.
import { readFileSync } from 'node:fs';
import { type Document, isMap, isPair, isScalar, isSeq, LineCounter, type Node, parseDocument } from 'yaml';
import type { z } from 'zod';
import { MoorError } from '../errors.ts';
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

/** The file to read: the --config flag, else $MOOR_CONFIG, else the default path. */
export function configPath(flag?: string): { path: string; explicit: boolean } {
  if (flag !== undefined) return { path: flag, explicit: true };
  const env = process.env[CONFIG_ENV];
  if (env) return { path: env, explicit: true };
  return { path: DEFAULT_CONFIG_PATH, explicit: false };
}

function readConfigText(path: string, explicit: boolean): string | undefined {
  try {
    const text = readFileSync(path, 'utf8');
    if (text.length > MAX_CONFIG_BYTES)
      throw new MoorError('invalid-input', `config file ${path} is larger than 1 MiB`, {
        hint: 'a moor config file holds a few dozen keys; point --config at the right file',
      });
    return text;
  } catch (err) {
    if (err instanceof MoorError) throw err;
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' && !explicit) return undefined;
    const how = explicit ? `(from ${process.env[CONFIG_ENV] === path ? `$${CONFIG_ENV}` : '--config'})` : '';
    if (code === 'ENOENT')
      throw new MoorError('not-found', `config file ${path} ${how} does not exist`, {
        hint: `create it (see ${DEFAULT_CONFIG_PATH} for the commented defaults) or name another file`,
      });
    if (code === 'EACCES')
      throw new MoorError('system', `config file ${path}: permission denied`, {
        hint: 'run moor as root (sudo), or make the file readable by this user',
      });
    if (code === 'EISDIR')
      throw new MoorError('invalid-input', `config file ${path} is a directory`, {
        hint: 'name the YAML file itself, e.g. /etc/moor/config.yaml',
      });
    throw new MoorError('system', `config file ${path} cannot be read: ${(err as Error).message}`, {
      hint: 'check the path and its permissions',
    });
  }
}

export function loadConfig(flag?: string): LoadedConfig {
  const { path, explicit } = configPath(flag);
  const text = readConfigText(path, explicit);
  if (text === undefined) return { path, found: false, data: {} };
  const checked = checkConfigText(path, text);
  if ('problems' in checked) {
    throw new MoorError('invalid-input', checked.problems.join('\n'), {
      hint: `correct ${path} (\`moor config check ${path}\` checks it without starting anything)`,
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
        const at = e.linePos?.[0];
        const reason = e.message.split('\n')[0]?.replace(/ at line \d+, column \d+:?$/, '');
        return `${path}:${at ? `${at.line}:${at.col}` : '?'}: not valid YAML: ${reason}`;
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
        `${path}:${lineOf(node)}: ${where}: ${shape} must be a mapping of keys to values, like "${path_.length === 0 ? 'agent:\\n  resync: 30' : 'resync: 30'}"`,
      );
      continue;
    }
    problems.push(
      `${path}:${lineOf(node)}: ${where}: ${describeValue(doc, path_)}; allowed: ${allowedText(option)}`,
    );
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

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      cur.push(Math.min((prev[j] ?? 0) + 1, (cur[j - 1] ?? 0) + 1, (prev[j - 1] ?? 0) + cost));
    }
    prev = cur;
  }
  return prev[b.length] ?? 0;
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
