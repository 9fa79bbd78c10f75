// `moor acl` end to end: the mapping objects on the real API server, read by the moor bundle
// with a kubeconfig, exported as nft and iptables, loaded into a real firewall namespace `fw`.
// The selected workload's egress IP gets through; an unselected source and the egress IP of
// another policy (allowed elsewhere only) are dropped. Counted by nft counters in a table of the
// test's own, at a later hook priority than the ACL, so they count what the ACL let through.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CoreV1Api, CustomObjectsApi } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { historyObject } from '../../src/plan/egress-history-wire.ts';
import { planMapping } from '../../src/plan/egress-mapping.ts';
import { ownerIndex, resolveWorkload } from '../../src/plan/egress-mapping-owner.ts';
import { mapSliceObject } from '../../src/plan/egress-mapping-wire.ts';
import { type ApiServer, startApiServer, startEtcd } from '../harness/apiserver.ts';
import { readYamlDocuments, waitForCrdsEstablished } from '../harness/kube.ts';
import { moor } from '../harness/moor.ts';
import { createCrdRaw } from '../harness/raw-api.ts';
import { TestRun } from '../harness/run.ts';
import { buildTopology, type Host, type Topology } from '../harness/topology.ts';

const CRD_DIR = join(import.meta.dirname, '..', '..', 'k8s', 'egress', 'crds');
const GROUP = 'egress.moor.io';
const VERSION = 'v1alpha1';
const FW = '10.77.0.1';
const SELECTED = '10.77.0.20'; // the egress IP of policy checkout
const UNSELECTED = '10.77.0.30'; // a source no policy gives
const OTHER = '10.77.0.40'; // the egress IP of policy ledger, whose destinations are elsewhere

let run: TestRun;
let api: ApiServer;
let topo: Topology;
let custom: CustomObjectsApi;
let kubeconfig: string;

beforeAll(async () => {
  run = TestRun.start();
  topo = await buildTopology(run, {
    hosts: { api: {}, admin: {}, fw: {}, selected: {}, unselected: {}, other: {} },
    links: [{ a: { host: 'api', address: '10.99.0.2/24' }, b: { host: 'admin', address: '10.99.0.1/24' } }],
    lans: [
      {
        name: 'fwlan',
        members: [
          { host: 'fw', address: `${FW}/24` },
          { host: 'selected', address: `${SELECTED}/24` },
          { host: 'unselected', address: `${UNSELECTED}/24` },
          { host: 'other', address: `${OTHER}/24` },
        ],
      },
    ],
  });
  const etcd = await startEtcd(run, topo.host('api'));
  api = await startApiServer(run, { name: 'aclfw', host: topo.host('api'), etcd, address: '10.99.0.2' });
  const kc = api.kubeConfig();
  const crds = ['egresspolicies.yaml', 'egressmapslices.yaml', 'egressiphistories.yaml'].flatMap((f) =>
    readYamlDocuments(join(CRD_DIR, f)),
  );
  for (const crd of crds) await createCrdRaw(api, crd);
  await waitForCrdsEstablished(
    kc,
    crds.map((c) => c.metadata?.name ?? ''),
  );
  custom = kc.makeApiClient(CustomObjectsApi);
  kubeconfig = join(run.dir, 'acl.kubeconfig');
  writeFileSync(kubeconfig, api.kubeConfigYaml(), { mode: 0o600 });

  const policy = (name: string, cidr: string, except?: string[]) =>
    custom.createClusterCustomObject({
      group: GROUP,
      version: VERSION,
      plural: 'egresspolicies',
      body: {
        apiVersion: `${GROUP}/${VERSION}`,
        kind: 'EgressPolicy',
        metadata: { name },
        spec: { gateway: 'east', destinations: [{ cidr, ...(except ? { except } : {}) }] },
      },
    });
  const core = kc.makeApiClient(CoreV1Api);
  for (const name of ['payments', 'finance']) await core.createNamespace({ body: { metadata: { name } } });
  await policy('checkout', '10.77.0.0/24', ['10.77.0.99/32']);
  await policy('ledger', '10.88.0.0/24');
  await writeSlices([
    { ns: 'payments', pod: 'checkout-7d9f-abcde', ip: SELECTED, policy: 'checkout' },
    { ns: 'finance', pod: 'ledger-0', ip: OTHER, policy: 'ledger' },
  ]);
}, 180_000);

afterAll(async () => {
  await run?.cleanup();
});

const policies = [
  { name: 'checkout', gateway: 'east', destinations: [{ cidr: '10.77.0.0/24', except: ['10.77.0.99/32'] }] },
  { name: 'ledger', gateway: 'east', destinations: [{ cidr: '10.88.0.0/24' }] },
];
const owners = ownerIndex({
  replicaSets: [
    {
      namespace: 'payments',
      name: 'checkout-7d9f',
      owners: [{ kind: 'Deployment', name: 'checkout', controller: true }],
    },
  ],
});
const podOwners: Record<string, { kind: string; name: string; controller: boolean }[]> = {
  'checkout-7d9f-abcde': [{ kind: 'ReplicaSet', name: 'checkout-7d9f', controller: true }],
  'ledger-0': [{ kind: 'StatefulSet', name: 'ledger', controller: true }],
};

/** What the controller will do: plan the slices from the pods and write them. */
async function writeSlices(pods: { ns: string; pod: string; ip: string; policy: string }[]): Promise<void> {
  const list = (await custom.listClusterCustomObject({
    group: GROUP,
    version: VERSION,
    plural: 'egressmapslices',
  })) as {
    items: { metadata: { name: string } }[];
  };
  for (const item of list.items)
    await custom.deleteClusterCustomObject({
      group: GROUP,
      version: VERSION,
      plural: 'egressmapslices',
      name: item.metadata.name,
    });
  const plan = planMapping({
    policies,
    assignments: pods.map((p) => ({
      namespace: p.ns,
      name: p.pod,
      node: 'w1',
      podIP: '10.42.1.5',
      policy: p.policy,
      egressIP: p.ip,
    })),
    workloads: new Map(
      pods.map((p) => [
        `${p.ns}/${p.pod}`,
        resolveWorkload({ namespace: p.ns, name: p.pod, owners: podOwners[p.pod] ?? [] }, owners),
      ]),
    ),
    previous: [],
    now: '2026-12-01T08:00:00Z',
  });
  for (const s of plan.slices)
    await custom.createClusterCustomObject({
      group: GROUP,
      version: VERSION,
      plural: 'egressmapslices',
      body: mapSliceObject(s),
    });
}

const acl = (args: string[]) => moor(topo.host('admin'), ['acl', ...args, '--kubeconfig', kubeconfig]);

/** A counting table of the test's own, after the filter hook: what reached fw's sockets. */
async function installCounters(fw: Host): Promise<void> {
  await fw.exec(['nft', '-f', '-'], {
    input: `table inet fwcount {}
delete table inet fwcount
table inet fwcount {
  chain in {
    type filter hook input priority 100; policy accept;
    ip saddr ${SELECTED} icmp type echo-request counter
    ip saddr ${UNSELECTED} icmp type echo-request counter
    ip saddr ${OTHER} icmp type echo-request counter
  }
}
`,
  });
}

async function delivered(fw: Host): Promise<Record<string, number>> {
  const r = await fw.exec(['nft', '-j', 'list', 'table', 'inet', 'fwcount']);
  const out: Record<string, number> = {};
  for (const item of (JSON.parse(r.stdout) as { nftables: { rule?: { expr: Record<string, unknown>[] } }[] })
    .nftables) {
    const expr = item.rule?.expr;
    if (!expr) continue;
    const match = expr.find((e) => 'match' in e) as { match: { right: string } } | undefined;
    const counter = expr.find((e) => 'counter' in e) as { counter: { packets: number } } | undefined;
    if (match && counter) out[match.match.right] = counter.counter.packets;
  }
  return out;
}

async function pingAll(n: number): Promise<Record<string, boolean>> {
  const result: Record<string, boolean> = {};
  for (const h of ['selected', 'unselected', 'other']) {
    let ok = false;
    for (let i = 0; i < n; i++) ok = (await topo.host(h).ping(FW, 1)) || ok;
    result[h] = ok;
  }
  return result;
}

describe('moor acl on a real firewall', () => {
  it('without an ACL every source reaches fw (the counters count)', async () => {
    const fw = topo.host('fw');
    await installCounters(fw);
    expect(await pingAll(2)).toEqual({ selected: true, unselected: true, other: true });
    expect(await delivered(fw)).toEqual({ [SELECTED]: 2, [UNSELECTED]: 2, [OTHER]: 2 });
  });

  it('nft export: only the selected workload gets through; the drop counter counts the rest', async () => {
    const fw = topo.host('fw');
    const r = await acl(['export', '-o', 'nft', '--cluster', 'cluster-a']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('payments/checkout (Deployment) in cluster-a policy checkout');
    const file = join(run.dir, 'acl.nft');
    writeFileSync(file, r.stdout);
    await fw.exec(['nft', '-f', file]);
    await fw.exec(['nft', '-f', file]); // loading twice replaces, never duplicates
    await installCounters(fw);
    expect(await pingAll(3)).toEqual({ selected: true, unselected: false, other: false });
    expect(await delivered(fw)).toEqual({ [SELECTED]: 3, [UNSELECTED]: 0, [OTHER]: 0 });
    const rules = (await fw.exec(['nft', 'list', 'chain', 'ip', 'moor_acl', 'acl'])).stdout;
    expect(rules.match(/counter packets (\d+) .* drop/)?.[1]).toBe('6');
    await fw.exec(['nft', 'delete', 'table', 'ip', 'moor_acl']);
  });

  it('iptables export: the same filtering through iptables-restore', async () => {
    const fw = topo.host('fw');
    const r = await acl(['export', '-o', 'iptables']);
    expect(r.code).toBe(0);
    const file = join(run.dir, 'acl.iptables');
    writeFileSync(file, r.stdout);
    await fw.exec(['iptables-restore', '--noflush', file]);
    await fw.exec(['iptables', '-I', 'INPUT', '-j', 'MOOR-ACL']);
    await installCounters(fw);
    expect(await pingAll(3)).toEqual({ selected: true, unselected: false, other: false });
    expect(await delivered(fw)).toEqual({ [SELECTED]: 3, [UNSELECTED]: 0, [OTHER]: 0 });
    await fw.exec(['iptables', '-D', 'INPUT', '-j', 'MOOR-ACL']);
  });

  it('cidr, csv, json and yaml carry the same rules', async () => {
    expect((await acl(['export', '-o', 'cidr'])).stdout).toBe(`${SELECTED}/32\n${OTHER}/32\n`);
    const csv = (await acl(['export', '-o', 'csv', '--namespace', 'payments'])).stdout.trim().split('\n');
    expect(csv.slice(1)).toEqual([
      `${SELECTED},,payments,Deployment,checkout,checkout,10.77.0.0/24,10.77.0.99/32,1`,
    ]);
    const json = JSON.parse((await acl(['export', '--workload', 'StatefulSet/ledger'])).stdout) as {
      rules: unknown[];
    };
    expect(json.rules).toEqual([
      {
        egressIP: OTHER,
        namespace: 'finance',
        workload: { kind: 'StatefulSet', name: 'ledger' },
        policy: 'ledger',
        destinations: [{ cidr: '10.88.0.0/24' }],
        pods: 1,
      },
    ]);
    expect((await acl(['export', '-o', 'yaml', '--policy', 'ledger'])).stdout).toContain(
      'kind: MoorEgressACL',
    );
  });

  it('an unknown policy, namespace or workload is a clear error', async () => {
    const p = await acl(['export', '--policy', 'nope']);
    expect(p.code).not.toBe(0);
    expect(p.stderr).toContain('there is no EgressPolicy named "nope"');
    expect(p.stderr).not.toMatch(/\n\s+at /); // no stack trace
    const n = await acl(['export', '--namespace', 'nope']);
    expect(n.stderr).toContain('there is no namespace "nope"');
    const w = await acl(['export', '--workload', 'nonsense']);
    expect(w.code).toBe(2);
    expect(w.stderr).toContain('is not KIND/NAME');
  });

  it('who answers for now and for the past, and says so for an IP never used', async () => {
    const now = await acl(['who', SELECTED]);
    expect(now.code).toBe(0);
    expect(now.stdout).toContain('payments/checkout (Deployment) policy checkout');
    await custom.createClusterCustomObject({
      group: GROUP,
      version: VERSION,
      plural: 'egressiphistories',
      body: historyObject({
        ip: '10.77.0.50',
        records: [
          {
            namespace: 'payments',
            workload: { kind: 'Deployment', name: 'old-api' },
            policy: 'checkout',
            from: '2026-11-24T13:00:00Z',
            to: '2026-11-24T15:00:00Z',
            pods: ['old-api-1', 'old-api-2'],
          },
        ],
      }),
    });
    const past = await acl(['who', '10.77.0.50', '--at', '2026-11-24T14:02:00Z']);
    expect(past.code).toBe(0);
    expect(past.stdout).toContain(
      'payments/old-api (Deployment) policy checkout, held from 2026-11-24T13:00:00Z to 2026-11-24T15:00:00Z',
    );
    const later = await acl(['who', '10.77.0.50', '--at', '2026-11-25T00:00:00Z']);
    expect(later.code).toBe(1);
    expect(later.stdout).toContain('was not held by any workload');
    const never = await acl(['who', '10.77.0.99']);
    expect(never.code).toBe(1);
    expect(never.stdout).toContain('10.77.0.99 has never been an egress IP');
  });

  it('diff against an earlier export lists the change for review', async () => {
    const before = await acl(['export', '-o', 'json']);
    const file = join(run.dir, 'before.json');
    writeFileSync(file, before.stdout);
    expect((await acl(['diff', file])).stdout).toBe('no changes\n');
    await writeSlices([
      { ns: 'payments', pod: 'checkout-7d9f-abcde', ip: SELECTED, policy: 'checkout' },
      { ns: 'finance', pod: 'ledger-0', ip: '10.77.0.41', policy: 'ledger' },
    ]);
    const d = await acl(['diff', file]);
    expect(d.code).toBe(1);
    expect(d.stdout).toBe(
      '- allow 10.77.0.40 = finance/ledger (StatefulSet) policy ledger to 10.88.0.0/24\n' +
        '+ allow 10.77.0.41 = finance/ledger (StatefulSet) policy ledger to 10.88.0.0/24\n',
    );
  });

  it('a slice whose label disagrees with its policy is named on stderr and never exported', async () => {
    const [good] = planMapping({
      policies,
      assignments: [
        {
          namespace: 'payments',
          name: 'intruder',
          node: 'w1',
          podIP: '10.42.1.6',
          policy: 'checkout',
          egressIP: UNSELECTED,
        },
      ],
      workloads: new Map(),
      previous: [],
      now: '2026-12-01T08:00:00Z',
    }).slices;
    if (!good) throw new Error('no slice');
    const forged = {
      ...mapSliceObject({ ...good, name: 'forged-0' }),
      metadata: { name: 'forged-0', labels: { 'egress.moor.io/policy': 'ledger' } },
    };
    await custom.createClusterCustomObject({
      group: GROUP,
      version: VERSION,
      plural: 'egressmapslices',
      body: forged,
    });
    const r = await acl(['export', '-o', 'cidr']);
    expect(r.code).toBe(0);
    expect(r.stdout).not.toContain(UNSELECTED);
    expect(r.stderr).toContain(
      'ignored EgressMapSlice/forged-0: label egress.moor.io/policy=ledger does not match policy checkout',
    );
  });
});
