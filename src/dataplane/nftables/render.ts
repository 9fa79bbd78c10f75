// Rendering the whole table as one `nft -f -` script, which nft applies as ONE transaction:
// either all of it takes effect or none. `table … {}` first so that flush works on a table that
// does not exist yet; deletes and set flushes next (flush table keeps set elements); then the
// full definition. Packets never see a half-written table.
import type { NftTableSpec } from './model.ts';
import type { NftCleanup } from './observe.ts';

export function renderTableScript(spec: Required<NftTableSpec>, cleanup: NftCleanup): string {
  const t = `${spec.family} ${spec.name}`;
  const out: string[] = [`table ${t} {}`, `flush table ${t}`];
  for (const c of cleanup.deleteChains) out.push(`delete chain ${t} ${c}`);
  for (const s of cleanup.deleteSets) out.push(`delete set ${t} ${s}`);
  for (const m of cleanup.deleteMaps) out.push(`delete map ${t} ${m}`);
  for (const s of cleanup.flushSets) out.push(`flush set ${t} ${s}`);
  for (const m of cleanup.flushMaps) out.push(`flush map ${t} ${m}`);
  out.push(renderTableBody(spec));
  return `${out.join('\n')}\n`;
}

export function renderTableBody(spec: Required<NftTableSpec>): string {
  const lines: string[] = [`table ${spec.family} ${spec.name} {`];
  // Sets and maps before chains: rules refer to them.
  for (const s of spec.sets) {
    lines.push(`\tset ${s.name} {`, `\t\ttype ${s.type}`);
    if (s.flags?.length) lines.push(`\t\tflags ${s.flags.join(', ')}`);
    if (s.elements?.length) lines.push(`\t\telements = { ${s.elements.join(', ')} }`);
    lines.push('\t}');
  }
  for (const m of spec.maps) {
    lines.push(`\tmap ${m.name} {`, `\t\ttype ${m.type} : ${m.valueType}`);
    if (m.flags?.length) lines.push(`\t\tflags ${m.flags.join(', ')}`);
    if (m.elements?.length)
      lines.push(`\t\telements = { ${m.elements.map(([k, v]) => `${k} : ${v}`).join(', ')} }`);
    lines.push('\t}');
  }
  for (const c of spec.chains) {
    lines.push(`\tchain ${c.name} {`);
    if (c.base) {
      const b = c.base;
      lines.push(`\t\ttype ${b.type} hook ${b.hook} priority ${b.priority}; policy ${b.policy ?? 'accept'};`);
    }
    for (const r of c.rules ?? []) lines.push(`\t\t${r}`);
    lines.push('\t}');
  }
  lines.push('}');
  return lines.join('\n');
}
