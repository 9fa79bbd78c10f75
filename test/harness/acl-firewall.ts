// A firewall host loading `moor acl export` output, for e2e tests: the load and removal recipes
// are read from docs/egress-acl.md ("Loading the exports into a firewall"), so the documented
// guidance is what the tests run; what the host delivered per source is counted by a table of the
// test's own on the input hook after the filter priority (what the ACL let through); and the
// ACL's own drop counters and any residue after a removal are read from the kernel.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { AclFormat } from '../../src/acl/render.ts';
import type { Host } from './topology.ts';

export const ACL_DOC = join(import.meta.dirname, '..', '..', 'docs', 'egress-acl.md');

/** The `sh` blocks of the doc marked `<!-- recipe: NAME -->`, by name. */
export function docRecipes(path = ACL_DOC): Map<string, string> {
  const text = readFileSync(path, 'utf8');
  const out = new Map<string, string>();
  for (const m of text.matchAll(/<!-- recipe: ([a-z-]+) -->\n```sh\n([\s\S]*?)\n```/g))
    out.set(m[1] as string, `${m[2] as string}\n`);
  return out;
}

/** Where each format's rules live once loaded (what a removal must leave no trace of). */
const TABLE: Record<AclFormat, string> = {
  nft: 'ip moor_acl',
  iptables: 'ip filter',
  cidr: 'ip fw_egress',
  csv: 'ip moor_acl',
  json: 'ip moor_acl',
  yaml: 'ip moor_acl',
};

export interface AclFirewall {
  /** Writes the export to `<dir>/<format>/acl.<format>` and loads it with the doc's recipe. */
  load(format: AclFormat, exported: string): Promise<void>;
  remove(format: AclFormat): Promise<void>;
  /** Packets the ACL dropped (the sum of its drop counters). */
  dropped(format: AclFormat): Promise<number>;
  /** The rules the loaded ACL holds (nft statements or iptables lines), to compare two loads. */
  rules(format: AclFormat): Promise<string[]>;
  /** What a removal left: the nft tables and iptables chains/rules that were not there before. */
  residue(): Promise<string[]>;
  /** (Re)installs the delivery counters for `sources`, all at zero. */
  countDelivered(sources: readonly string[]): Promise<void>;
  /** Packets delivered per source since countDelivered (after the ACL's filter hook). */
  delivered(): Promise<Map<string, number>>;
}

const COUNT_TABLE = 'inet moor_test_delivered';

export async function aclFirewall(
  fw: Host,
  dir: string,
  env: Record<string, string> = {},
): Promise<AclFirewall> {
  const recipes = docRecipes();
  const recipe = (name: string) => {
    const r = recipes.get(name);
    if (!r) throw new Error(`${ACL_DOC} has no recipe "${name}"`);
    return r;
  };
  const sh = (cwd: string, script: string) =>
    fw.exec(['sh', '-euc', `cd "$1"\n${script}`, 'sh', cwd], { env: { ...process.env, ...env } });
  const tables = async () =>
    (await fw.exec(['nft', 'list', 'tables'])).stdout
      .split('\n')
      .map((l) => l.replace(/^table /, '').trim())
      .filter(Boolean);
  const iptablesRules = async () =>
    (await fw.exec(['iptables', '-S'])).stdout.split('\n').filter((l) => l && !l.startsWith('-P '));
  const baseTables = new Set(await tables());
  const nftJson = async (table: string) =>
    (
      JSON.parse((await fw.exec(['nft', '-j', 'list', 'table', ...table.split(' ')])).stdout) as {
        nftables: { rule?: { expr: Record<string, unknown>[] } }[];
      }
    ).nftables.flatMap((i) => (i.rule ? [i.rule.expr] : []));
  return {
    async load(format, exported) {
      const d = join(dir, format);
      mkdirSync(d, { recursive: true });
      writeFileSync(join(d, `acl.${format}`), exported);
      const steps =
        format === 'nft' || format === 'iptables'
          ? [recipe(`${format}-load`)]
          : format === 'cidr'
            ? [recipe('cidr-table'), recipe('cidr-load')]
            : [recipe('lines'), recipe(`${format}-load`)];
      await sh(d, steps.join(''));
    },
    async remove(format) {
      const name = format === 'nft' || format === 'iptables' || format === 'cidr' ? format : 'nft';
      await sh(dir, recipe(`${name}-remove`));
    },
    async dropped(format) {
      if (format === 'iptables') {
        const save = (await fw.exec(['iptables-save', '-c', '-t', 'filter'])).stdout;
        return [...save.matchAll(/^\[(\d+):\d+\] -A MOOR-ACL .*-j DROP$/gm)].reduce(
          (n, m) => n + Number(m[1]),
          0,
        );
      }
      let n = 0;
      for (const expr of await nftJson(TABLE[format])) {
        const counter = expr.find((e) => 'counter' in e) as { counter: { packets: number } } | undefined;
        if (counter && expr.some((e) => 'drop' in e)) n += counter.counter.packets;
      }
      return n;
    },
    async rules(format) {
      if (format === 'iptables') return (await iptablesRules()).filter((l) => l.includes('MOOR-ACL'));
      const out = await fw.exec(['nft', '-s', 'list', 'table', ...TABLE[format].split(' ')]);
      return out.stdout
        .split('\n')
        .map((l) => l.trim())
        .filter(Boolean);
    },
    async residue() {
      const left = (await tables()).filter((t) => !baseTables.has(t) && t !== 'ip filter');
      // iptables-nft keeps its (then empty) `ip filter` table; what counts is chains and rules.
      return [...left, ...(await iptablesRules())];
    },
    async countDelivered(sources) {
      await fw.exec(['nft', '-f', '-'], {
        input: [
          `table ${COUNT_TABLE} {}`,
          `delete table ${COUNT_TABLE}`,
          `table ${COUNT_TABLE} {`,
          '  chain in {',
          '    type filter hook input priority 100; policy accept;',
          ...sources.map((s) => `    ip saddr ${s} counter`),
          '  }',
          '}',
        ].join('\n'),
      });
      baseTables.add(COUNT_TABLE);
    },
    async delivered() {
      const out = new Map<string, number>();
      for (const expr of await nftJson(COUNT_TABLE)) {
        const match = expr.find((e) => 'match' in e) as { match: { right: string } } | undefined;
        const counter = expr.find((e) => 'counter' in e) as { counter: { packets: number } } | undefined;
        if (match && counter) out.set(match.match.right, counter.counter.packets);
      }
      return out;
    },
  };
}
