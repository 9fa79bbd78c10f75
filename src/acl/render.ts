// `moor acl export` formats, each a pure function of the export. json and yaml are the
// reviewable documents (and what `moor acl diff` reads back); csv is for spreadsheets and ticket
// systems; cidr is a plain source list; nft and iptables load as they are:
//   nft -f acl.nft                      (replaces table ip moor_acl atomically)
//   iptables-restore --noflush < acl.iptables, once: iptables -I INPUT -j MOOR-ACL (and FORWARD)
// The filtering both give: to a destination the ACL covers, only the workload's egress IP is let
// through (exceptions excluded); everything else to those destinations is dropped and counted;
// traffic to other destinations is not touched.
import { stringify } from 'yaml';
import { cidrContains, formatCidr, parseCidr } from '../net/ipv4.ts';
import { type AclExport, type AclRule, compareIp, describeRule } from './rules.ts';

export const ACL_FORMATS = ['json', 'yaml', 'csv', 'nft', 'iptables', 'cidr'] as const;
export type AclFormat = (typeof ACL_FORMATS)[number];

export const ACL_DOCUMENT_KIND = 'MoorEgressACL';

export function renderAcl(doc: AclExport, format: AclFormat): string {
  switch (format) {
    case 'json':
      return `${JSON.stringify(document(doc), null, 2)}\n`;
    case 'yaml':
      return stringify(document(doc));
    case 'csv':
      return renderCsv(doc);
    case 'cidr':
      return renderCidr(doc);
    case 'nft':
      return renderNft(doc);
    case 'iptables':
      return renderIptables(doc);
  }
}

export function document(doc: AclExport): Record<string, unknown> {
  return {
    kind: ACL_DOCUMENT_KIND,
    version: 1,
    generatedAt: doc.generatedAt,
    ...(doc.cluster ? { cluster: doc.cluster } : {}),
    filter: doc.filter,
    rules: doc.rules,
  };
}

const csvField = (v: string) => (/[",\n]/.test(v) ? `"${v.replaceAll('"', '""')}"` : v);

function renderCsv(doc: AclExport): string {
  const lines = ['egress_ip,cluster,namespace,workload_kind,workload,policy,destination,except,pods'];
  for (const r of doc.rules)
    for (const d of r.destinations)
      lines.push(
        [
          r.egressIP,
          r.cluster ?? doc.cluster ?? '',
          r.namespace,
          r.workload.kind,
          r.workload.name,
          r.policy,
          d.cidr,
          (d.except ?? []).join(' '),
          String(r.pods),
        ]
          .map(csvField)
          .join(','),
      );
  return `${lines.join('\n')}\n`;
}

function renderCidr(doc: AclExport): string {
  const ips = [...new Set(doc.rules.map((r) => r.egressIP))].sort(compareIp);
  return ips.map((ip) => `${ip}/32\n`).join('');
}

/** The destinations the ACL protects, with CIDRs inside another one left out (nft intervals must not overlap). */
export function protectedDestinations(rules: readonly AclRule[]): string[] {
  const all = [
    ...new Set(rules.flatMap((r) => r.destinations.map((d) => formatCidr(parseCidr(d.cidr))))),
  ].map((c) => parseCidr(c));
  const outer = all.filter((c, i) => !all.some((o, j) => j !== i && cidrContains(o, c)));
  return outer
    .map(formatCidr)
    .sort((a, b) => compareIp(a.split('/')[0] as string, b.split('/')[0] as string));
}

/** nft comments are at most 128 bytes; names are DNS labels, so no quote can occur. */
const comment = (text: string) => `"${text.replaceAll('"', "'").slice(0, 120)}"`;

const header = (doc: AclExport, how: string) =>
  [
    `# moor acl export, generated ${doc.generatedAt}${doc.cluster ? ` for cluster ${doc.cluster}` : ''}: ${doc.rules.length} rule(s)`,
    `# ${how}`,
  ].join('\n');

function renderNft(doc: AclExport): string {
  const dsts = protectedDestinations(doc.rules);
  const out = [
    header(doc, 'load with: nft -f FILE (replaces table ip moor_acl atomically)'),
    'table ip moor_acl {}',
    'delete table ip moor_acl',
    'table ip moor_acl {',
    '  set protected {',
    '    type ipv4_addr',
    '    flags interval',
    ...(dsts.length > 0 ? [`    elements = { ${dsts.join(', ')} }`] : []),
    '  }',
    '  chain acl {',
    '    ct state established,related accept',
  ];
  for (const r of doc.rules)
    for (const d of r.destinations) {
      const except = d.except?.length ? ` ip daddr != { ${d.except.join(', ')} }` : '';
      out.push(
        `    ip saddr ${r.egressIP} ip daddr ${d.cidr}${except} counter accept comment ${comment(describeRule(r, doc.cluster))}`,
      );
    }
  out.push(
    '    ip daddr @protected counter drop comment "moor acl: not an allowed egress IP"',
    '  }',
    '  chain input {',
    '    type filter hook input priority filter; policy accept;',
    '    jump acl',
    '  }',
    '  chain forward {',
    '    type filter hook forward priority filter; policy accept;',
    '    jump acl',
    '  }',
    '}',
  );
  return `${out.join('\n')}\n`;
}

function renderIptables(doc: AclExport): string {
  const out = [
    header(
      doc,
      'load with: iptables-restore --noflush < FILE; hook once: iptables -I INPUT -j MOOR-ACL; iptables -I FORWARD -j MOOR-ACL',
    ),
    '*filter',
    ':MOOR-ACL - [0:0]',
  ];
  const rules: string[] = [];
  let n = 0;
  for (const r of doc.rules)
    for (const d of r.destinations) {
      const why = `-m comment --comment ${comment(describeRule(r, doc.cluster))}`;
      if (!d.except?.length) {
        rules.push(`-A MOOR-ACL -s ${r.egressIP}/32 -d ${d.cidr} ${why} -j ACCEPT`);
        continue;
      }
      // Exceptions: a per-rule chain returns for them (on to the drop) and accepts the rest.
      const chain = `MOOR-ACL-${++n}`;
      out.push(`:${chain} - [0:0]`);
      rules.push(`-A MOOR-ACL -s ${r.egressIP}/32 -d ${d.cidr} ${why} -j ${chain}`);
      for (const e of d.except) rules.push(`-A ${chain} -d ${e} -j RETURN`);
      rules.push(`-A ${chain} -j ACCEPT`);
    }
  out.push('-A MOOR-ACL -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT', ...rules);
  for (const dst of protectedDestinations(doc.rules))
    out.push(`-A MOOR-ACL -d ${dst} -m comment --comment "moor acl: not an allowed egress IP" -j DROP`);
  out.push('COMMIT');
  return `${out.join('\n')}\n`;
}
