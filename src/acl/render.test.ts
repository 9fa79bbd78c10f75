import { describe, expect, it } from 'vitest';
import type { MapRow } from '../plan/egress-mapping.ts';
import { diffAcl, readAclExport, renderDiff } from './diff.ts';
import { protectedDestinations, renderAcl } from './render.ts';
import { type AclExport, aclRules } from './rules.ts';

const row = (pod: string, over: Partial<MapRow> = {}): MapRow => ({
  namespace: 'payments',
  pod,
  workload: { kind: 'Deployment', name: 'checkout' },
  since: '2026-12-01T08:00:00Z',
  egressIP: '203.0.113.20',
  policy: 'checkout',
  gateway: 'east',
  destinations: [{ cidr: '10.50.0.0/24', except: ['10.50.0.9/32'] }],
  ...over,
});
const rows: MapRow[] = [
  row('checkout-a'),
  row('checkout-b'),
  row('ledger-0', {
    namespace: 'finance',
    workload: { kind: 'StatefulSet', name: 'ledger' },
    egressIP: '203.0.113.3',
    policy: 'ledger',
    destinations: [{ cidr: '10.50.0.0/16' }, { cidr: '192.0.2.0/24' }],
  }),
  row('waiting', { egressIP: undefined }),
];
const doc: AclExport = {
  generatedAt: '2026-12-01T09:00:00Z',
  cluster: 'cluster-a',
  filter: {},
  rules: aclRules(rows, {}),
};

describe('aclRules', () => {
  it('groups pods into one rule per IP and workload, sorted by IP; pods without an IP are left out', () => {
    expect(doc.rules.map((r) => [r.egressIP, r.namespace, r.workload.name, r.pods])).toEqual([
      ['203.0.113.3', 'finance', 'ledger', 1],
      ['203.0.113.20', 'payments', 'checkout', 2],
    ]);
  });
  it('filters by namespace, policy and Kind/name', () => {
    expect(aclRules(rows, { namespace: 'finance' }).map((r) => r.policy)).toEqual(['ledger']);
    expect(aclRules(rows, { policy: 'checkout' }).map((r) => r.policy)).toEqual(['checkout']);
    expect(aclRules(rows, { workload: 'statefulset/ledger' }).map((r) => r.policy)).toEqual(['ledger']);
    expect(aclRules(rows, { workload: 'Deployment/ledger' })).toEqual([]);
  });
  it('leaves destinations inside another one out of the protected set', () => {
    expect(protectedDestinations(doc.rules)).toEqual(['10.50.0.0/16', '192.0.2.0/24']);
  });
});

describe('renderers (golden)', () => {
  it('csv', () => {
    expect(renderAcl(doc, 'csv')).toBe(
      `egress_ip,cluster,namespace,workload_kind,workload,policy,destination,except,pods
203.0.113.3,cluster-a,finance,StatefulSet,ledger,ledger,10.50.0.0/16,,1
203.0.113.3,cluster-a,finance,StatefulSet,ledger,ledger,192.0.2.0/24,,1
203.0.113.20,cluster-a,payments,Deployment,checkout,checkout,10.50.0.0/24,10.50.0.9/32,2
`,
    );
  });
  it('cidr', () => {
    expect(renderAcl(doc, 'cidr')).toBe('203.0.113.3/32\n203.0.113.20/32\n');
  });
  it('nft', () => {
    expect(
      renderAcl(doc, 'nft'),
    ).toBe(`# moor acl export, generated 2026-12-01T09:00:00Z for cluster cluster-a: 2 rule(s)
# load with: nft -f FILE (replaces table ip moor_acl atomically)
table ip moor_acl {}
delete table ip moor_acl
table ip moor_acl {
  set protected {
    type ipv4_addr
    flags interval
    elements = { 10.50.0.0/16, 192.0.2.0/24 }
  }
  chain acl {
    ct state established,related accept
    ip saddr 203.0.113.3 ip daddr 10.50.0.0/16 counter accept comment "finance/ledger (StatefulSet) in cluster-a policy ledger"
    ip saddr 203.0.113.3 ip daddr 192.0.2.0/24 counter accept comment "finance/ledger (StatefulSet) in cluster-a policy ledger"
    ip saddr 203.0.113.20 ip daddr 10.50.0.0/24 ip daddr != { 10.50.0.9/32 } counter accept comment "payments/checkout (Deployment) in cluster-a policy checkout"
    ip daddr @protected counter drop comment "moor acl: not an allowed egress IP"
  }
  chain input {
    type filter hook input priority filter; policy accept;
    jump acl
  }
  chain forward {
    type filter hook forward priority filter; policy accept;
    jump acl
  }
}
`);
  });
  it('iptables', () => {
    expect(
      renderAcl(doc, 'iptables'),
    ).toBe(`# moor acl export, generated 2026-12-01T09:00:00Z for cluster cluster-a: 2 rule(s)
# load with: iptables-restore --noflush < FILE; hook once: iptables -I INPUT -j MOOR-ACL; iptables -I FORWARD -j MOOR-ACL
*filter
:MOOR-ACL - [0:0]
:MOOR-ACL-1 - [0:0]
-A MOOR-ACL -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT
-A MOOR-ACL -s 203.0.113.3/32 -d 10.50.0.0/16 -m comment --comment "finance/ledger (StatefulSet) in cluster-a policy ledger" -j ACCEPT
-A MOOR-ACL -s 203.0.113.3/32 -d 192.0.2.0/24 -m comment --comment "finance/ledger (StatefulSet) in cluster-a policy ledger" -j ACCEPT
-A MOOR-ACL -s 203.0.113.20/32 -d 10.50.0.0/24 -m comment --comment "payments/checkout (Deployment) in cluster-a policy checkout" -j MOOR-ACL-1
-A MOOR-ACL-1 -d 10.50.0.9/32 -j RETURN
-A MOOR-ACL-1 -j ACCEPT
-A MOOR-ACL -d 10.50.0.0/16 -m comment --comment "moor acl: not an allowed egress IP" -j DROP
-A MOOR-ACL -d 192.0.2.0/24 -m comment --comment "moor acl: not an allowed egress IP" -j DROP
COMMIT
`);
  });
  it('json and yaml read back as the same export', () => {
    for (const f of ['json', 'yaml'] as const)
      expect(readAclExport(renderAcl(doc, f), `acl.${f}`)).toEqual(doc);
  });
});

describe('diff', () => {
  it('lists removed, changed and added rules as review lines', () => {
    const now = aclRules(
      [
        row('checkout-c', { destinations: [{ cidr: '10.50.0.0/24' }] }),
        row('api-0', { workload: { kind: 'Deployment', name: 'api' }, egressIP: '203.0.113.21' }),
      ],
      {},
    );
    expect(renderDiff(diffAcl(doc.rules, now), 'cluster-a')).toBe(
      `- allow 203.0.113.3 = finance/ledger (StatefulSet) in cluster-a policy ledger to 10.50.0.0/16, 192.0.2.0/24
- allow 203.0.113.20 = payments/checkout (Deployment) in cluster-a policy checkout to 10.50.0.0/24 except 10.50.0.9/32
+ allow 203.0.113.20 = payments/checkout (Deployment) in cluster-a policy checkout to 10.50.0.0/24
+ allow 203.0.113.21 = payments/api (Deployment) in cluster-a policy checkout to 10.50.0.0/24 except 10.50.0.9/32
`,
    );
    expect(renderDiff(diffAcl(doc.rules, doc.rules))).toBe('no changes\n');
  });
  it('refuses a file that is not an export, naming the problem', () => {
    expect(() => readAclExport('{"kind":"Pod"}', 'old.json')).toThrow(
      /old.json: not a MoorEgressACL document/,
    );
    expect(() => readAclExport('{ nope', 'old.json')).toThrow(/not JSON or YAML/);
    expect(() =>
      readAclExport('kind: MoorEgressACL\nversion: 1\nrules: [{egressIP: 1}]\n', 'old.yaml'),
    ).toThrow(/rule 1 is incomplete/);
  });
});
