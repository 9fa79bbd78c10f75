// The clusterset view of the egress ACL on real parts: a broker API server and two member
// clusters (their own API servers on the broker's etcd), each running a real `moor controller`
// that publishes its EgressMapSlices (written here directly) to the broker as EgressMapSummary
// objects with its own broker credential (ServiceAccount cluster-<id>). A joined host lists both
// clusters' egress IPs with `moor acl export --clusterset` and answers `dig -x` for them from
// its agent's DNS; a forged object is ignored and reported and never makes a DNS record; a
// broker outage removes nothing. Membership: each cluster's Submariner Cluster object is on the
// broker (as its gateway publishes it); a cluster whose Cluster object goes (it left) is no longer
// listed nor named, `moor acl withdraw --clusterset` removes its summaries, and a rejoin is trusted.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KubeRestClient } from '../../src/k8s/rest.ts';
import type { MapSlice } from '../../src/plan/egress-mapping.ts';
import { mapSliceObject } from '../../src/plan/egress-mapping-wire.ts';
import { type ApiServer, startApiServer } from '../harness/apiserver.ts';
import { type BrokerAndHost, startBrokerAndHost } from '../harness/broker-and-host.ts';
import { joinHost, publishClusterObject, withdrawClusterObject } from '../harness/clusterset.ts';
import { readYamlDocuments, serviceAccountWithRole, waitForCrdsEstablished } from '../harness/kube.ts';
import { moor, startMoor } from '../harness/moor.ts';
import { type RunningProcess, waitFor } from '../harness/process.ts';
import { createCrdRaw } from '../harness/raw-api.ts';
import { TestRun } from '../harness/run.ts';

const CRD_DIR = join(import.meta.dirname, '..', '..', 'k8s', 'egress', 'crds');
const BROKER_DIR = join(import.meta.dirname, '..', '..', 'k8s', 'broker');
const SUMMARIES = (ns: string) => `/apis/egress.moor.io/v1alpha1/namespaces/${ns}/egressmapsummaries`;
const SLICES = '/apis/egress.moor.io/v1alpha1/egressmapslices';

interface Member {
  id: string;
  api: ApiServer;
  /** Admin client of the cluster's own API (the test writes the slices with it). */
  client: KubeRestClient;
  /** The member's broker credential (cluster-<id>), for the test's own requests. */
  brokerClient: KubeRestClient;
  brokerKubeconfig: string;
  /** Admin kubeconfig of the cluster's own API (the controller's). */
  kubeconfig: string;
  controller?: RunningProcess;
}

/** Each cluster's pod and service CIDR, for its Cluster object. */
const CIDRS = {
  a: { cluster: '10.10.0.0/16', service: '10.110.0.0/16' },
  b: { cluster: '10.20.0.0/16', service: '10.120.0.0/16' },
};

let run: TestRun;
let env: BrokerAndHost;
let admin: KubeRestClient;
let ns: string;
const members: Record<'a' | 'b', Member> = {} as Record<'a' | 'b', Member>;
let stateDir: string;
let vmAddress = '';
let agent: RunningProcess;

const slice = (
  name: string,
  policy: string,
  ip: string,
  workload: [string, string, string],
  pods: number,
): MapSlice => ({
  name,
  policy,
  gateway: 'east',
  destinations: [{ cidr: '10.50.0.0/24' }],
  entries: Array.from({ length: pods }, (_, i) => ({
    namespace: workload[0],
    pod: `${workload[2]}-${i}`,
    workload: { kind: workload[1], name: workload[2] },
    egressIP: ip,
    since: '2026-12-01T10:00:00Z',
  })),
});

async function putSlice(m: Member, s: MapSlice): Promise<void> {
  const path = `${SLICES}/${s.name}`;
  const current = await m.client
    .get<{ metadata?: { resourceVersion?: string } }>(path)
    .catch(() => undefined);
  const body = mapSliceObject(s);
  if (!current) await m.client.create(SLICES, body);
  else
    await m.client.replace(path, {
      ...body,
      metadata: { ...(body.metadata as object), resourceVersion: current.metadata?.resourceVersion },
    });
}

/** name → resourceVersion of every summary on the broker. */
async function summaries(): Promise<Map<string, string>> {
  const list = await admin.get<{ items: { metadata: { name: string; resourceVersion: string } }[] }>(
    SUMMARIES(ns),
  );
  return new Map(list.items.map((o) => [o.metadata.name, o.metadata.resourceVersion]));
}

const vm1 = () => env.topo.host('vm1');
const dig = async (args: string[]) =>
  (await vm1().exec(['dig', `@${vmAddress}`, ...args, '+tries=1', '+time=2'], { allowFail: true })).stdout;
const digShort = async (args: string[]) =>
  (await dig([...args, '+short'])).trim().split('\n').filter(Boolean).sort();

function startController(m: Member, kubeconfig: string): RunningProcess {
  m.controller = startMoor(env.topo.host('broker'), `controller-${m.id}-${Date.now()}`, [
    'controller',
    '--kubeconfig',
    kubeconfig,
    '--cluster-id',
    m.id,
    '--broker-kubeconfig',
    m.brokerKubeconfig,
    '--broker-namespace',
    ns,
    '--resync',
    '5',
  ]);
  return m.controller;
}

beforeAll(async () => {
  run = TestRun.start();
  env = await startBrokerAndHost(run);
  ns = env.broker.namespace;
  admin = new KubeRestClient({ server: env.api.localUrl, caPem: env.api.caPem, token: env.api.adminToken });
  const crds = readYamlDocuments(join(CRD_DIR, 'egressgateways.yaml'))
    .concat(readYamlDocuments(join(CRD_DIR, 'egresspolicies.yaml')))
    .concat(readYamlDocuments(join(CRD_DIR, 'egressmapslices.yaml')));
  let port = 6444;
  for (const key of ['a', 'b'] as const) {
    const id = `cluster-${key}`;
    const api = await startApiServer(run, {
      name: id,
      host: env.topo.host('broker'),
      etcd: env.etcd,
      address: '10.99.0.2',
      port: port++,
      controllerManager: false,
    });
    for (const crd of crds) await createCrdRaw(api, structuredClone(crd));
    await waitForCrdsEstablished(
      api.kubeConfig(),
      crds.map((c) => c.metadata?.name ?? ''),
    );
    const client = new KubeRestClient({ server: api.localUrl, caPem: api.caPem, token: api.adminToken });
    await client.create('/api/v1/namespaces', {
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: { name: 'moor-egress' },
    });
    // The member's broker credential, exactly as subctl join mints it (Role submariner-k8s-broker-cluster);
    // EgressMapSummary rights come from the broker's moor-egress-summaries RoleBinding.
    const token = await serviceAccountWithRole(
      env.api.kubeConfig(),
      ns,
      `cluster-${id}`,
      'submariner-k8s-broker-cluster',
    );
    const brokerKubeconfig = join(run.dir, `${id}-broker.kubeconfig`);
    writeFileSync(brokerKubeconfig, env.api.kubeConfigYaml(token), { mode: 0o600 });
    const kubeconfig = join(run.dir, `${id}.kubeconfig`);
    writeFileSync(kubeconfig, api.kubeConfigYaml(), { mode: 0o600 });
    const brokerClient = new KubeRestClient({ server: env.api.localUrl, caPem: env.api.caPem, token });
    members[key] = { id, api, client, brokerClient, brokerKubeconfig, kubeconfig };
    // The cluster is a member: its gateway published its Cluster object on joining.
    await publishClusterObject(brokerClient, ns, id, CIDRS[key]);
    startController(members[key], kubeconfig);
  }
  await putSlice(
    members.a,
    slice('checkout-0', 'checkout', '203.0.113.20', ['payments', 'Deployment', 'checkout'], 2),
  );
  await putSlice(members.a, slice('batch-0', 'batch', '203.0.113.21', ['jobs', 'CronJob', 'report'], 1));
  await putSlice(members.b, slice('web-0', 'web', '198.51.100.7', ['shop', 'Deployment', 'frontend'], 3));

  // The host joins with broker-info (admin token); from then on it holds only its cluster-vm1 token.
  ({ stateDir, address: vmAddress, agent } = await joinHost(run, vm1(), env.brokerInfo));
}, 300_000);

afterAll(async () => {
  admin?.close();
  for (const m of Object.values(members)) {
    m.client.close();
    m.brokerClient.close();
  }
  await run?.cleanup();
});

/** Named for cluster A, labelled for cluster B, with `clusterID` as given. */
const forgedSummary = (clusterID: string) => ({
  apiVersion: 'egress.moor.io/v1alpha1',
  kind: 'EgressMapSummary',
  metadata: { name: 'cluster-a-forged-0', labels: { 'submariner-io/clusterID': 'cluster-b' } },
  clusterID,
  policy: 'forged',
  destinations: [{ cidr: '10.50.0.0/24' }],
  rules: [
    { egressIP: '192.0.2.66', namespace: 'evil', workload: { kind: 'Deployment', name: 'x' }, pods: 1 },
  ],
});

const exportClusterset = (extra: string[] = []) =>
  moor(vm1(), ['acl', 'export', '--clusterset', '--state-dir', stateDir, ...extra]);

describe('the clusterset view of egress IPs', () => {
  it('each controller publishes its own cluster`s summary to the broker, named and labelled with its cluster ID', async () => {
    const names = await waitFor(
      'both clusters published',
      async () => {
        const s = await summaries();
        return s.size === 3 ? [...s.keys()].sort() : undefined;
      },
      { timeoutMs: 60_000, process: members.a.controller },
    );
    expect(names).toEqual(['cluster-a-batch-0', 'cluster-a-checkout-0', 'cluster-b-web-0']);
    const obj = await admin.get<Record<string, unknown> & { metadata: { labels: Record<string, string> } }>(
      `${SUMMARIES(ns)}/cluster-a-checkout-0`,
    );
    expect(obj.metadata.labels['submariner-io/clusterID']).toBe('cluster-a');
    expect(obj).toMatchObject({
      clusterID: 'cluster-a',
      policy: 'checkout',
      destinations: [{ cidr: '10.50.0.0/24' }],
      rules: [
        {
          egressIP: '203.0.113.20',
          namespace: 'payments',
          workload: { kind: 'Deployment', name: 'checkout' },
          pods: 2,
        },
      ],
    });
  });

  it('a joined host lists both clusters` egress IPs, with the cluster in each rule', async () => {
    const r = await exportClusterset();
    expect(r.code, r.stderr).toBe(0);
    const doc = JSON.parse(r.stdout) as {
      rules: { cluster: string; egressIP: string; workload: { name: string }; pods: number }[];
    };
    expect(doc.rules.map((x) => [x.cluster, x.egressIP, x.workload.name, x.pods])).toEqual([
      ['cluster-b', '198.51.100.7', 'frontend', 3],
      ['cluster-a', '203.0.113.20', 'checkout', 2],
      ['cluster-a', '203.0.113.21', 'report', 1],
    ]);
    const csv = await exportClusterset(['-o', 'csv', '--cluster', 'cluster-b']);
    expect(csv.stdout.trim().split('\n').slice(1)).toEqual([
      '198.51.100.7,cluster-b,shop,Deployment,frontend,web,10.50.0.0/24,,3',
    ]);
    const none = await exportClusterset(['--policy', 'nope']);
    expect(none.code).toBe(1);
    expect(none.stderr).toMatch(/no rule of the clusterset matches --policy nope/);
  });

  it('a member lists them too, with its broker credential', async () => {
    const r = await moor(env.topo.host('broker'), [
      'acl',
      'export',
      '--clusterset',
      '--broker-kubeconfig',
      members.a.brokerKubeconfig,
      '--broker-namespace',
      ns,
      '-o',
      'cidr',
    ]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe('198.51.100.7/32\n203.0.113.20/32\n203.0.113.21/32\n');
  });

  it('the host agent`s DNS answers dig -x with workload.namespace.cluster names, and the names resolve', async () => {
    await waitFor(
      'PTR for cluster B',
      async () => ((await digShort(['-x', '198.51.100.7'])).length > 0 ? true : undefined),
      { timeoutMs: 60_000, process: agent },
    );
    expect(await digShort(['-x', '203.0.113.20'])).toEqual([
      'checkout.payments.cluster-a.egress.clusterset.local.',
    ]);
    expect(await digShort(['-x', '198.51.100.7'])).toEqual([
      'frontend.shop.cluster-b.egress.clusterset.local.',
    ]);
    expect(await digShort(['checkout.payments.cluster-a.egress.clusterset.local'])).toEqual(['203.0.113.20']);
    expect(await digShort(['report.jobs.cluster-a.egress.clusterset.local'])).toEqual(['203.0.113.21']);
    expect(await dig(['nobody.shop.cluster-b.egress.clusterset.local'])).toContain('status: NXDOMAIN');
  });

  it('a slice change rewrites one summary; the others keep their resourceVersion', async () => {
    const before = await summaries();
    await putSlice(
      members.a,
      slice('checkout-0', 'checkout', '203.0.113.20', ['payments', 'Deployment', 'checkout'], 4),
    );
    const after = await waitFor('the checkout summary rewritten', async () => {
      const s = await summaries();
      return s.get('cluster-a-checkout-0') !== before.get('cluster-a-checkout-0') ? s : undefined;
    });
    expect(after.get('cluster-a-batch-0')).toBe(before.get('cluster-a-batch-0'));
    expect(after.get('cluster-b-web-0')).toBe(before.get('cluster-b-web-0'));
    // Two resyncs (5 s each) later nothing else was written: identical input, zero writes.
    await new Promise((r) => setTimeout(r, 11_000));
    expect(await summaries()).toEqual(after);
  });

  it('the API server refuses a summary whose name and content disagree (CEL)', async () => {
    const err = await members.a.brokerClient.create(SUMMARIES(ns), forgedSummary('cluster-b')).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(String(err)).toMatch(/metadata.name must start with the clusterID/);
  });

  it('a forged object (cluster B under A`s name) is ignored and reported, and makes no DNS record', async () => {
    // Written with cluster A's own credential: the name and content say A, the label says B.
    await members.a.brokerClient.create(SUMMARIES(ns), forgedSummary('cluster-a'));
    const r = await exportClusterset();
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain(
      `moor acl: ignored EgressMapSummary/${ns}/cluster-a-forged-0 (inconsistent-cluster-id): label submariner-io/clusterID="cluster-b" disagrees with clusterID "cluster-a"`,
    );
    expect(r.stdout).not.toContain('192.0.2.66');
    await waitFor('the agent reported the forged object', () =>
      agent
        .log()
        .includes(
          `egress names: ignoring EgressMapSummary/${ns}/cluster-a-forged-0 (inconsistent-cluster-id)`,
        )
        ? true
        : undefined,
    );
    expect(await dig(['-x', '192.0.2.66'])).not.toMatch(/PTR\s+\S*egress/);
    await waitFor('moor status names the ignored object', async () => {
      const st = await moor(vm1(), ['status', '--state-dir', stateDir]);
      return st.stdout.includes(
        `egress names:  3 egress IPs of 2 clusters; ignored: EgressMapSummary/${ns}/cluster-a-forged-0 (inconsistent-cluster-id)`,
      )
        ? true
        : undefined;
    });
    expect(await digShort(['x.evil.cluster-a.egress.clusterset.local'])).toEqual([]);
    expect(await digShort(['x.evil.cluster-b.egress.clusterset.local'])).toEqual([]);
    // Neither publisher treats it as its own: B's name prefix is not on it, A's label is not.
    await new Promise((r) => setTimeout(r, 6_000));
    expect((await summaries()).has('cluster-a-forged-0')).toBe(true);
  });

  it('with the admission policy, a member writes and deletes only its own cluster`s objects', async () => {
    const [policy, binding] = readYamlDocuments(
      join(BROKER_DIR, 'admission', 'moor-egress-summaries-policy.yaml'),
      {
        placeholder: ns,
      },
    );
    await admin.create('/apis/admissionregistration.k8s.io/v1/validatingadmissionpolicies', policy);
    await admin.create('/apis/admissionregistration.k8s.io/v1/validatingadmissionpolicybindings', binding);
    // A consistent object for cluster B, written with cluster A's credential: the reader cannot
    // tell it from B's own; the policy refuses it (once the API server has loaded the policy).
    const hijack = {
      ...forgedSummary('cluster-b'),
      metadata: { name: 'cluster-b-hijack-0', labels: { 'submariner-io/clusterID': 'cluster-b' } },
    };
    const refusal = await waitFor('the policy refusing a write for another cluster', async () => {
      const err = await members.a.brokerClient.create(SUMMARIES(ns), hijack).then(
        async () => {
          await admin.delete(`${SUMMARIES(ns)}/cluster-b-hijack-0`);
          return undefined;
        },
        (e: unknown) => e,
      );
      return err === undefined ? undefined : String(err);
    });
    expect(refusal).toMatch(
      /only EgressMapSummary objects labelled submariner-io\/clusterID with its own cluster ID/,
    );
    const del = await members.b.brokerClient.delete(`${SUMMARIES(ns)}/cluster-a-checkout-0`).then(
      () => 'deleted',
      (e: unknown) => String(e),
    );
    expect(del).toMatch(/only its own cluster's EgressMapSummary objects/);
    // The members' own publishing goes on.
    const before = await summaries();
    await putSlice(members.a, slice('batch-0', 'batch', '203.0.113.21', ['jobs', 'CronJob', 'report'], 2));
    await waitFor('cluster A rewrote its own summary under the policy', async () =>
      (await summaries()).get('cluster-a-batch-0') !== before.get('cluster-a-batch-0') ? true : undefined,
    );
    expect([...(await summaries()).keys()].sort()).toEqual([
      'cluster-a-batch-0',
      'cluster-a-checkout-0',
      'cluster-a-forged-0',
      'cluster-b-web-0',
    ]);
  });

  it('a broker outage removes none of the host`s egress records; the broker keeps every summary', async () => {
    const before = await summaries();
    await env.api.stopApiServer();
    try {
      await waitFor(
        'the agent noticed the outage',
        () => (/egress names: broker unreachable/.test(agent.log()) ? true : undefined),
        { timeoutMs: 60_000 },
      );
      expect(await digShort(['-x', '203.0.113.20'])).toEqual([
        'checkout.payments.cluster-a.egress.clusterset.local.',
      ]);
      expect(await digShort(['-x', '198.51.100.7'])).toEqual([
        'frontend.shop.cluster-b.egress.clusterset.local.',
      ]);
      expect(await digShort(['frontend.shop.cluster-b.egress.clusterset.local'])).toEqual(['198.51.100.7']);
    } finally {
      await env.api.restartApiServer();
    }
    expect(await summaries()).toEqual(before);
    expect(members.a.controller?.running).toBe(true);
  });

  it('a cluster that leaves (its Cluster object deleted) is no longer listed nor named; cluster A is unaffected', async () => {
    // B was a member from the start: its publisher never warned.
    const warning = 'cluster "cluster-b" has no Cluster object in broker namespace';
    const logBefore = members.b.controller?.log() ?? '';
    expect(logBefore).not.toContain(warning);
    await withdrawClusterObject(members.b.brokerClient, ns, members.b.id);
    const r = await exportClusterset();
    expect(r.code, r.stderr).toBe(0);
    const doc = JSON.parse(r.stdout) as { rules: { cluster: string; egressIP: string }[] };
    expect(doc.rules.map((x) => [x.cluster, x.egressIP])).toEqual([
      ['cluster-a', '203.0.113.20'],
      ['cluster-a', '203.0.113.21'],
    ]);
    expect(r.stderr).toContain(
      `moor acl: ignored EgressMapSummary/${ns}/cluster-b-* (not-a-member): cluster "cluster-b" has no Cluster object on the broker (it left the clusterset or never joined); its 1 EgressMapSummary object is ignored; the member removes them with \`moor acl withdraw --clusterset\``,
    );
    // Its summary is still on the broker (B's controller still publishes), but it names nothing.
    expect((await summaries()).has('cluster-b-web-0')).toBe(true);
    await waitFor(
      'the host DNS stopped naming cluster B`s egress IP',
      async () => ((await dig(['-x', '198.51.100.7'])).includes('status: REFUSED') ? true : undefined),
      { timeoutMs: 30_000, process: agent },
    );
    expect(await dig(['-x', '198.51.100.7'])).not.toMatch(/PTR\s+\S*egress/);
    expect(await dig(['frontend.shop.cluster-b.egress.clusterset.local'])).toContain('status: NXDOMAIN');
    expect(await digShort(['-x', '203.0.113.20'])).toEqual([
      'checkout.payments.cluster-a.egress.clusterset.local.',
    ]);
    expect(await digShort(['checkout.payments.cluster-a.egress.clusterset.local'])).toEqual(['203.0.113.20']);
    await waitFor('moor status and the agent log name cluster B as not a member', async () => {
      const st = await moor(vm1(), ['status', '--state-dir', stateDir]);
      return st.stdout.includes(`EgressMapSummary/${ns}/cluster-b-* (not-a-member)`) &&
        st.stdout.includes('2 egress IPs of 1 clusters') &&
        agent.log().includes(`egress names: ignoring EgressMapSummary/${ns}/cluster-b-* (not-a-member)`)
        ? true
        : undefined;
    });
    // B's publisher notices it is not a member (its resync is 5 s), and keeps publishing.
    await waitFor('cluster B`s controller warned', () =>
      members.b.controller?.log().slice(logBefore.length).includes(warning) ? true : undefined,
    );
    expect(members.b.controller?.running).toBe(true);
  });

  it('moor acl withdraw --clusterset with cluster B`s credential deletes B`s summaries only; a second run has nothing to withdraw', async () => {
    // The leave procedure (docs/egress-acl.md): B's controller stops publishing first.
    await members.b.controller?.stop();
    const before = await summaries();
    const withdraw = () =>
      moor(env.topo.host('broker'), [
        'acl',
        'withdraw',
        '--clusterset',
        '--cluster-id',
        members.b.id,
        '--broker-kubeconfig',
        members.b.brokerKubeconfig,
        '--broker-namespace',
        ns,
      ]);
    const r = await withdraw();
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe(
      `deleted EgressMapSummary/${ns}/cluster-b-web-0\nwithdrew 1 EgressMapSummary object of cluster cluster-b from broker namespace ${ns}\n`,
    );
    // The forged object is labelled B but named for A: not B's to delete (and the admission policy would refuse it).
    expect(r.stderr).toContain(`moor acl: left alone EgressMapSummary/${ns}/cluster-a-forged-0`);
    const after = await summaries();
    expect([...after.keys()].sort()).toEqual([
      'cluster-a-batch-0',
      'cluster-a-checkout-0',
      'cluster-a-forged-0',
    ]);
    for (const [name, version] of after) expect(version).toBe(before.get(name));
    const again = await withdraw();
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toBe(
      `nothing to withdraw: cluster cluster-b has no EgressMapSummary objects in broker namespace ${ns}\n`,
    );
    expect(again.stderr).not.toContain('note:');
  });

  it('a broker credential that may not list Cluster objects gets no view, and the error names the permission and the fix', async () => {
    const token = await serviceAccountWithRole(
      env.api.kubeConfig(),
      ns,
      'summaries-only',
      'moor-egress-summaries',
    );
    const kubeconfig = join(run.dir, 'summaries-only.kubeconfig');
    writeFileSync(kubeconfig, env.api.kubeConfigYaml(token), { mode: 0o600 });
    const r = await moor(env.topo.host('broker'), [
      'acl',
      'export',
      '--clusterset',
      '--broker-kubeconfig',
      kubeconfig,
      '--broker-namespace',
      ns,
    ]);
    expect(r.code).not.toBe(0);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/may not list Cluster objects \(clusters\.submariner\.io\) in /);
    expect(r.stderr).toMatch(
      /fix: bind the credential's ServiceAccount to the Role submariner-k8s-broker-cluster/,
    );
  });

  it('cluster B rejoins: its controller publishes again and, once its Cluster object is back, it is trusted again', async () => {
    // The controller comes first (as when the gateway joins after it): it publishes, readers ignore it.
    const controller = startController(members.b, members.b.kubeconfig);
    await waitFor(
      'B republished',
      async () => ((await summaries()).has('cluster-b-web-0') ? true : undefined),
      {
        timeoutMs: 60_000,
        process: controller,
      },
    );
    expect((await exportClusterset()).stderr).toContain(`EgressMapSummary/${ns}/cluster-b-* (not-a-member)`);
    await publishClusterObject(members.b.brokerClient, ns, members.b.id, CIDRS.b);
    const r = await exportClusterset();
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).not.toContain('not-a-member');
    expect(
      (JSON.parse(r.stdout) as { rules: { cluster: string; egressIP: string }[] }).rules.map((x) => [
        x.cluster,
        x.egressIP,
      ]),
    ).toEqual([
      ['cluster-b', '198.51.100.7'],
      ['cluster-a', '203.0.113.20'],
      ['cluster-a', '203.0.113.21'],
    ]);
    await waitFor(
      'the host DNS names cluster B again',
      async () => ((await digShort(['-x', '198.51.100.7'])).length > 0 ? true : undefined),
      { timeoutMs: 30_000, process: agent },
    );
    expect(await digShort(['-x', '198.51.100.7'])).toEqual([
      'frontend.shop.cluster-b.egress.clusterset.local.',
    ]);
    expect(await digShort(['frontend.shop.cluster-b.egress.clusterset.local'])).toEqual(['198.51.100.7']);
    await waitFor('B`s controller saw it is a member now', () =>
      controller.log().includes('"cluster-b" is a member of the clusterset now') ? true : undefined,
    );
  });
});
