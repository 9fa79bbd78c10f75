// The layer check `npm run lint` runs before biome (docs/architecture.md "Layers", docs/decisions.md).
// It reads every .ts file under src/ and reports:
//   upward-import   a folder imports a folder of its own or a higher rank (siblings are independent);
//   unknown-layer   a folder that has no rank yet: give it one in LAYERS;
//   import-cycle    files that import each other, directly or not (type imports count);
//   child-process   node:child_process imported outside src/dataplane (tests excepted);
//   command-line    a literal command line (`.run([...` / `.spawn([...`) outside src/dataplane;
//   host-write      a writing node:fs call on a literal path under /etc, /proc, /sys or /run
//                   outside src/dataplane.
// biome's noImportCycles checks cycles as well; this script adds the rules biome cannot express
// (biome matches import specifiers as text, not the folder a relative path resolves to).
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, normalize, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Top to bottom. A folder may import only folders of a LOWER rank; folders of one rank never
 * import each other. Files directly in src/ (errors.ts) are the bottom rank. */
export const LAYERS: readonly (readonly string[])[] = [
  ['cli'],
  ['agent', 'gateway', 'controller', 'node-agent', 'egress-gateway'],
  ['cables', 'exports', 'dns', 'ha'],
  ['plan', 'egress', 'health'],
  ['broker'],
  ['k8s'],
  ['reconcile'],
  ['dataplane', 'observability', 'config'],
  ['net'],
  ['.'],
];

export type Rule =
  | 'upward-import'
  | 'unknown-layer'
  | 'import-cycle'
  | 'child-process'
  | 'command-line'
  | 'host-write';

export interface Violation {
  rule: Rule;
  /** Relative to the checked root, with '/' separators. */
  file: string;
  message: string;
}

/** A violation the lead accepts for now; `file` + `rule` (+ `target` for imports) must match. */
export interface AllowEntry {
  file: string;
  rule: Rule;
  /** For upward-import: the imported file. */
  target?: string;
  why: string;
}

// TEMPORARY ALLOWLIST: files other branches are moving behind dataplane ports right now.
// The lead removes each entry when merging the branch named in `why`; an entry that no longer
// matches anything is itself reported, so the list can only shrink.
export const TEMPORARY_ALLOWLIST: readonly AllowEntry[] = [];

// A writing node:fs call whose path is a literal under a host directory moor must not write
// outside src/dataplane. Reads (resolv.conf, /proc/<pid>) are fine anywhere.
const HOST_WRITE =
  /\b(writeFile|writeFileSync|appendFile|appendFileSync|rename|renameSync|rm|rmSync|unlink|unlinkSync|mkdir|mkdirSync|chmod|chmodSync|chown|chownSync|symlink|symlinkSync|copyFile|copyFileSync|truncate|truncateSync|createWriteStream)\(\s*['"`](\/etc|\/proc|\/sys|\/run|\/var\/run)\//;
const COMMAND_LINE = /\.(run|spawn)\(\s*\[/;

interface SourceFile {
  path: string;
  text: string;
  imports: { specifier: string; line: number }[];
}

export function checkLayers(
  root: string,
  allowlist: readonly AllowEntry[] = TEMPORARY_ALLOWLIST,
): Violation[] {
  const files = listSources(join(root, 'src')).map((abs) => readSource(root, abs));
  const known = new Set(files.map((f) => f.path));
  const violations: Violation[] = [];
  const edges = new Map<string, string[]>();
  for (const file of files) {
    const from = layerOf(file.path);
    // Tests may start helper processes (a second agent, a lock holder); production code may not.
    const isTest = file.path.endsWith('.test.ts');
    if (from.rank < 0) {
      violations.push({
        rule: 'unknown-layer',
        file: file.path,
        message: `folder src/${from.folder} has no layer: add it to LAYERS in scripts/check-layers.ts and docs/architecture.md`,
      });
    }
    const targets: string[] = [];
    for (const { specifier, line } of file.imports) {
      if (specifier === 'node:child_process' || specifier === 'child_process') {
        if (from.folder !== 'dataplane' && !isTest) {
          violations.push({
            rule: 'child-process',
            file: file.path,
            message: `line ${line}: only src/dataplane may start programs; put this behind a dataplane port`,
          });
        }
        continue;
      }
      if (!specifier.startsWith('.')) continue;
      const target = toPosix(normalize(join(dirname(file.path), specifier)));
      if (known.has(target)) targets.push(target);
      const to = layerOf(target);
      if (from.folder === to.folder || from.rank < 0 || to.rank < 0) continue;
      if (to.rank <= from.rank) {
        const how = to.rank === from.rank ? 'a sibling' : 'a higher layer';
        violations.push({
          rule: 'upward-import',
          file: file.path,
          message: `line ${line}: src/${from.folder} imports ${target}, ${how} (src/${to.folder}); dependencies point down`,
        });
      }
    }
    edges.set(file.path, targets);
    if (from.folder === 'dataplane') continue;
    if (!isTest && COMMAND_LINE.test(file.text)) {
      violations.push({
        rule: 'command-line',
        file: file.path,
        message: 'runs a program outside src/dataplane; give the operation a dataplane port',
      });
    }
    // Tests are exempt: they write a fake host under a temporary root.
    if (!isTest && HOST_WRITE.test(file.text)) {
      violations.push({
        rule: 'host-write',
        file: file.path,
        message:
          'writes a path under /etc, /proc, /sys or /run outside src/dataplane; give it a dataplane port',
      });
    }
  }
  for (const cycle of cycles(edges)) {
    violations.push({
      rule: 'import-cycle',
      file: cycle[0] ?? '',
      message: `import cycle: ${cycle.join(' → ')}`,
    });
  }
  return applyAllowlist(violations, allowlist);
}

function applyAllowlist(violations: Violation[], allowlist: readonly AllowEntry[]): Violation[] {
  const used = new Set<AllowEntry>();
  const kept = violations.filter((v) => {
    const entry = allowlist.find(
      (a) =>
        a.file === v.file && a.rule === v.rule && (a.target === undefined || v.message.includes(a.target)),
    );
    if (entry) used.add(entry);
    return entry === undefined;
  });
  for (const entry of allowlist) {
    if (used.has(entry)) continue;
    kept.push({
      rule: entry.rule,
      file: entry.file,
      message: `stale allowlist entry (${entry.why}): the file is clean now, remove the entry from TEMPORARY_ALLOWLIST`,
    });
  }
  return kept;
}

function layerOf(path: string): { folder: string; rank: number } {
  const parts = path.split('/');
  const folder = parts.length > 2 ? (parts[1] ?? '') : '.';
  return { folder, rank: LAYERS.findIndex((rank) => rank.includes(folder)) };
}

function listSources(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir).sort()) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...listSources(path));
    else if (name.endsWith('.ts')) out.push(path);
  }
  return out;
}

function readSource(root: string, abs: string): SourceFile {
  const raw = readFileSync(abs, 'utf8');
  // Comments may quote imports or paths; drop them (line comments only at a line start, so URLs
  // inside strings survive).
  const text = raw.replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '');
  const imports: SourceFile['imports'] = [];
  const pattern = /(?:\bfrom\s*|\bimport\s*\(?\s*)'([^']+)'/g;
  for (let m = pattern.exec(text); m !== null; m = pattern.exec(text)) {
    imports.push({ specifier: m[1] ?? '', line: text.slice(0, m.index).split('\n').length });
  }
  return { path: toPosix(relative(root, abs)), text, imports };
}

function toPosix(path: string): string {
  return path.split(sep).join('/');
}

/** Strongly connected components with more than one file (Tarjan), each in a stable order. */
function cycles(edges: Map<string, string[]>): string[][] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  let next = 0;
  const visit = (node: string): void => {
    index.set(node, next);
    low.set(node, next);
    next += 1;
    stack.push(node);
    onStack.add(node);
    for (const to of edges.get(node) ?? []) {
      if (!index.has(to)) {
        visit(to);
        low.set(node, Math.min(low.get(node) ?? 0, low.get(to) ?? 0));
      } else if (onStack.has(to)) {
        low.set(node, Math.min(low.get(node) ?? 0, index.get(to) ?? 0));
      }
    }
    if (low.get(node) !== index.get(node)) return;
    const component: string[] = [];
    for (let top = stack.pop(); top !== undefined; top = stack.pop()) {
      onStack.delete(top);
      component.push(top);
      if (top === node) break;
    }
    if (component.length > 1) found.push(component.sort());
  };
  for (const node of [...edges.keys()].sort()) if (!index.has(node)) visit(node);
  return found;
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  // `node scripts/check-layers.ts [root]`: another root (a fixture tree) gets no allowlist.
  const given = process.argv[2];
  const root = given ?? join(dirname(fileURLToPath(import.meta.url)), '..');
  const violations = checkLayers(root, given === undefined ? TEMPORARY_ALLOWLIST : []);
  for (const v of violations) console.error(`${v.file}: ${v.rule}: ${v.message}`);
  if (violations.length > 0) {
    console.error(`layer check: ${violations.length} violation(s); the rules are in docs/architecture.md`);
    process.exit(1);
  }
  console.log(`layer check: ${LAYERS.flat().length} folders, no violations`);
}
