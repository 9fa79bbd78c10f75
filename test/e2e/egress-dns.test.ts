// The in-cluster egress DNS answer: `moor controller --dns-listen` (the shipped bundle, two
// replicas) on the real API server, asked with the real `dig`. The mapping comes from
// EgressMapSlices written here directly, and a Lease held by a replica "elsewhere" keeps both
// processes standbys: everything they answer comes from the API objects, none from leader state.
// dig -x the egress IP gives the workload's name, the name gives the IP, over UDP and TCP, on
// both replicas; hostile slices give no names; a moved pod and a deleted slice are followed;
// unknown names are answered as an authoritative stub does; a replica that later takes the
// lease keeps answering; an API server outage keeps the last answers; bad options fail clearly.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KubeRestClient } from '../../src/k8s/rest.ts';
import type { MapSlice } from '../../src/plan/egress-mapping.ts';
import { mapSliceObject } from '../../src/plan/egress-mapping-wire.ts';
import type { ApiServer } from '../harness/apiserver.ts';
import { type DigAnswer, digQuery } from '../harness/dig.ts';
import {
  apiAndControllerHosts,
  createNamespace,
  deployEgressCrds,
  HAND_WRITTEN_SLICE_CRDS,
} from '../harness/egress-cluster.ts';
import { moor, startMoor } from '../harness/moor.ts';
import { type RunningProcess, waitFor } from '../harness/process.ts';
import { TestRun } from '../harness/run.ts';
import type { Topology } from '../harness/topology.ts';

const NAME = 'checkout.payments.cluster-a.egress.clusterset.local';
const FQDN = `${NAME}.`;
const EGRESS = '/apis/egress.moor.io/v1alpha1';
const LEASES = '/apis/coordination.k8s.io/v1/namespaces/moor-egress/leases';
const REPLICAS = { first: 5301, second: 5302 } as const;
type Replica = keyof typeof REPLICAS;

let run: TestRun;
let topo: Topology;
let api: ApiServer;
let client: KubeRestClient;
let kubeconfigPath: string;
const controllers = new Map<Replica, RunningProcess>();

const slice = (name: string, entries: { pod: string; ip: string; workload: string }[]): MapSlice => ({
  name,
  policy: 'checkout',
  gateway: 'east',
  destinations: [{ cidr: '10.50.0.0/24' }],
  entries: entries.map((e) => ({
    namespace: 'payments',
    pod: e.pod,
    node: 'w1',
    podIP: '10.1.1.5',
    workload: { kind: 'Deployment', name: e.workload },
    egressIP: e.ip,
    since: '2026-12-01T10:00:00Z',
  })),
});

async function writeSlice(s: MapSlice, labelPolicy = s.policy): Promise<void> {
  const body = mapSliceObject(s);
  body.metadata = { name: s.name, labels: { 'egress.moor.io/policy': labelPolicy } };
  const path = `${EGRESS}/egressmapslices`;
  try {
    const current = await client.get<{ metadata: { resourceVersion: string } }>(`${path}/${s.name}`);
    body.metadata = { ...(body.metadata as object), resourceVersion: current.metadata.resourceVersion };
    await client.replace(`${path}/${s.name}`, body);
  } catch {
    await client.create(path, body);
  }
}

const dig = (replica: Replica, query: string[], extra: string[] = []): Promise<DigAnswer> =>
  digQuery(
    (argv) => topo.host('ctl').exec(argv, { allowFail: true }),
    { address: '127.0.0.1', port: REPLICAS[replica] },
    query,
    extra,
  );
const ptr = (replica: Replica, ip: string, extra: string[] = []) => dig(replica, ['-x', ip], extra);
const data = (a: DigAnswer) => a.records.map((r) => r.data);

/** Until every replica gives `want` for the query: the mapping is followed, not polled by dig. */
async function untilAll(
  what: string,
  ask: (r: Replica) => Promise<DigAnswer>,
  want: (a: DigAnswer) => boolean,
) {
  for (const replica of Object.keys(REPLICAS) as Replica[])
    await waitFor(`${replica}: ${what}`, async () => (want(await ask(replica)) ? true : undefined), {
      process: controllers.get(replica) as RunningProcess,
      timeoutMs: 30_000,
      intervalMs: 200,
    });
}

function startController(identity: Replica): RunningProcess {
  const p = startMoor(topo.host('ctl'), `controller-${identity}`, [
    'controller',
    '--kubeconfig',
    kubeconfigPath,
    '--identity',
    identity,
    '--dns-listen',
    `127.0.0.1:${REPLICAS[identity]}`,
    '--cluster-id',
    'cluster-a',
  ]);
  controllers.set(identity, p);
  return p;
}

beforeAll(async () => {
  run = TestRun.start();
  ({ topo, api } = await apiAndControllerHosts(run, {
    name: 'egressdns',
    controllerManager: false,
  }));
  // Slices written by hand: without the history CRD no controller here syncs and rewrites them.
  await deployEgressCrds(api, HAND_WRITTEN_SLICE_CRDS);
  await createNamespace(api.kubeConfig(), 'moor-egress');
  client = new KubeRestClient({ server: api.localUrl, caPem: api.caPem, token: api.adminToken });
  // The leader is a replica on another machine: both processes here stay standbys.
  const now = new Date().toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
  await client.create(LEASES, {
    apiVersion: 'coordination.k8s.io/v1',
    kind: 'Lease',
    metadata: { name: 'moor-egress-controller' },
    spec: { holderIdentity: 'elsewhere', leaseDurationSeconds: 3600, acquireTime: now, renewTime: now },
  });
  await client.create(`${EGRESS}/egressgateways`, {
    apiVersion: 'egress.moor.io/v1alpha1',
    kind: 'EgressGateway',
    metadata: { name: 'east' },
    spec: {
      nodeSelector: { matchLabels: { 'egress.moor.io/gateway': 'east' } },
      pool: { cidrs: ['203.0.113.16/29'] },
      interface: 'lan0',
      subnet: '203.0.113.0/24',
      floatingIP: '203.0.113.254',
      vni: 4100,
    },
  });
  const policy = await client.create<Record<string, unknown>>(`${EGRESS}/egresspolicies`, {
    apiVersion: 'egress.moor.io/v1alpha1',
    kind: 'EgressPolicy',
    metadata: { name: 'checkout' },
    spec: {
      podSelector: { matchLabels: { app: 'checkout' } },
      destinations: [{ cidr: '10.50.0.0/24' }],
      gateway: 'east',
      ips: ['203.0.113.20', '203.0.113.21'],
    },
  });
  // The allocation as the leader writes it.
  await client.replace(`${EGRESS}/egresspolicies/checkout/status`, {
    ...policy,
    status: { ips: ['203.0.113.20', '203.0.113.21'] },
  });
  await writeSlice(
    slice('checkout-0', [{ pod: 'checkout-7d9f-a', ip: '203.0.113.20', workload: 'checkout' }]),
  );
  // Hostile: the label names another policy (the reader refuses the slice), and an entry that
  // claims a pool address the policy was never given.
  await writeSlice(slice('forged', [{ pod: 'thief-1', ip: '203.0.113.21', workload: 'thief' }]), 'ledger');
  await writeSlice(slice('checkout-9', [{ pod: 'squat-1', ip: '203.0.113.22', workload: 'squatter' }]));
  kubeconfigPath = join(run.dir, 'controller.kubeconfig');
  writeFileSync(kubeconfigPath, api.kubeConfigYaml(), { mode: 0o600 });
  startController('first');
  startController('second');
}, 180_000);

afterAll(async () => {
  client?.close();
  await run?.cleanup();
});

describe('in-cluster egress DNS (moor controller --dns-listen)', () => {
  it('dig -x the egress IP gives the workload name and the name gives the IP, on both standbys, UDP and TCP', async () => {
    await untilAll(
      'PTR of 203.0.113.20',
      (r) => ptr(r, '203.0.113.20'),
      (a) => a.status === 'NOERROR',
    );
    for (const replica of ['first', 'second'] as const) {
      for (const transport of [[], ['+tcp']]) {
        const reverse = await ptr(replica, '203.0.113.20', transport);
        expect(reverse.flags).toContain('aa');
        expect(reverse.records).toEqual([
          { name: '20.113.0.203.in-addr.arpa.', ttl: 5, type: 'PTR', data: FQDN },
        ]);
        const forward = await dig(replica, [NAME, 'A'], transport);
        expect(forward.records).toEqual([{ name: FQDN, ttl: 5, type: 'A', data: '203.0.113.20' }]);
      }
    }
    const lease = await client.get<{ spec: { holderIdentity: string } }>(`${LEASES}/moor-egress-controller`);
    expect(lease.spec.holderIdentity).toBe('elsewhere');
  });

  it('a forwarding resolver with stub zones for both replicas (as the cluster DNS) answers dig -x', async () => {
    // dnsmasq stands in for CoreDNS's `forward` server blocks of docs/egress-acl.md.
    const zones = ['egress.clusterset.local', '113.0.203.in-addr.arpa'];
    const resolver = topo
      .host('ctl')
      .spawn('dnsmasq', [
        'dnsmasq',
        '--no-daemon',
        '--conf-file=/dev/null',
        '--port=53',
        '--listen-address=127.0.0.1',
        '--bind-interfaces',
        '--no-resolv',
        '--no-hosts',
        '--log-queries',
        ...zones.flatMap((z) => Object.values(REPLICAS).map((port) => `--server=/${z}/127.0.0.1#${port}`)),
      ]);
    try {
      const viaResolver = (query: string[]) =>
        digQuery(
          (argv) => topo.host('ctl').exec(argv, { allowFail: true }),
          { address: '127.0.0.1', port: 53 },
          query,
        );
      const reverse = await waitFor(
        'the resolver to forward the PTR',
        async () => {
          const a = await viaResolver(['-x', '203.0.113.20']);
          return a.status === 'NOERROR' ? a : undefined;
        },
        { process: resolver, timeoutMs: 10_000, intervalMs: 200 },
      );
      expect(data(reverse)).toEqual([FQDN]);
      expect(data(await viaResolver([NAME, 'A']))).toEqual(['203.0.113.20']);
      expect(resolver.log()).toContain(`forwarded 20.113.0.203.in-addr.arpa to 127.0.0.1#`);
    } finally {
      await resolver.stop();
    }
  });

  it('hostile slices give no names; unknown names get an authoritative stub answer', async () => {
    for (const replica of ['first', 'second'] as const) {
      // .21 is allocated but only the forged slice claims it; .22 is in the pool, never allocated.
      for (const ip of ['203.0.113.21', '203.0.113.22'])
        expect(await ptr(replica, ip)).toMatchObject({ status: 'NXDOMAIN', records: [] });
      for (const w of ['thief', 'squatter'])
        expect((await dig(replica, [`${w}.payments.cluster-a.egress.clusterset.local`, 'A'])).status).toBe(
          'NXDOMAIN',
        );
      const unknown = await dig(replica, ['nope.payments.cluster-a.egress.clusterset.local', 'A']);
      expect(unknown.status).toBe('NXDOMAIN');
      expect(unknown.flags).toContain('aa');
      // Above an existing name: it exists, without records.
      expect(await dig(replica, ['payments.cluster-a.egress.clusterset.local', 'A'])).toMatchObject({
        status: 'NOERROR',
        records: [],
      });
      expect(await dig(replica, [NAME, 'AAAA'])).toMatchObject({ status: 'NOERROR', records: [] });
      // Not ours: Lighthouse's service names, and addresses outside every egress pool.
      expect((await dig(replica, ['web.shop.svc.clusterset.local', 'A'])).status).toBe('REFUSED');
      expect((await ptr(replica, '198.51.100.7')).status).toBe('REFUSED');
    }
  });

  it('follows the mapping: a pod moved to another egress IP, then the slice deleted', async () => {
    await writeSlice(
      slice('checkout-0', [{ pod: 'checkout-7d9f-a', ip: '203.0.113.21', workload: 'checkout' }]),
    );
    await untilAll(
      'the name on .21',
      (r) => dig(r, [NAME, 'A']),
      (a) => data(a).join() === '203.0.113.21',
    );
    for (const replica of ['first', 'second'] as const) {
      expect(data(await ptr(replica, '203.0.113.21'))).toEqual([FQDN]);
      expect((await ptr(replica, '203.0.113.20')).status).toBe('NXDOMAIN');
    }
    await client.delete(`${EGRESS}/egressmapslices/checkout-0`);
    await untilAll(
      'no name',
      (r) => dig(r, [NAME, 'A']),
      (a) => a.status === 'NXDOMAIN',
    );
    for (const replica of ['first', 'second'] as const)
      expect(await ptr(replica, '203.0.113.21')).toMatchObject({ status: 'NXDOMAIN', records: [] });
  });

  it('bad options fail with the fix named, and nothing starts', async () => {
    const base = ['controller', '--kubeconfig', kubeconfigPath, '--identity', 'bad'];
    const noId = await moor(topo.host('ctl'), [...base, '--dns-listen', '127.0.0.1:5399']);
    expect(noId.code).not.toBe(0);
    expect(noId.stderr).toContain('--dns-listen needs --cluster-id');
    const badId = await moor(topo.host('ctl'), [
      ...base,
      '--dns-listen',
      '127.0.0.1:5399',
      '--cluster-id',
      'Cluster_A',
    ]);
    expect(badId.code).not.toBe(0);
    expect(badId.stderr).toContain('not a valid DNS-1123 label');
    const taken = await moor(topo.host('ctl'), [
      ...base,
      '--dns-listen',
      `127.0.0.1:${REPLICAS.first}`,
      '--cluster-id',
      'cluster-a',
    ]);
    expect(taken.code).not.toBe(0);
    expect(taken.stderr).toContain(`cannot listen for DNS on 127.0.0.1:${REPLICAS.first}`);
    // None of them campaigned, and the replica that holds the port is untouched.
    const lease = await client.get<{ spec: { holderIdentity: string } }>(`${LEASES}/moor-egress-controller`);
    expect(lease.spec.holderIdentity).toBe('elsewhere');
    expect(controllers.get('first')?.running).toBe(true);
    expect((await dig('first', ['egress.clusterset.local', 'A'])).status).toBe('NOERROR');
  });
  it('an API server outage keeps the last answers (stale, not empty)', async () => {
    await writeSlice(
      slice('checkout-1', [{ pod: 'checkout-7d9f-b', ip: '203.0.113.20', workload: 'checkout' }]),
    );
    await untilAll(
      'PTR of .20 again',
      (r) => ptr(r, '203.0.113.20'),
      (a) => data(a).join() === FQDN,
    );
    await api.stopApiServer();
    try {
      for (const replica of ['first', 'second'] as const) {
        expect(data(await ptr(replica, '203.0.113.20'))).toEqual([FQDN]);
        expect(data(await dig(replica, [NAME, 'A'], ['+tcp']))).toEqual(['203.0.113.20']);
      }
    } finally {
      await api.restartApiServer();
    }
  });

  it('a replica that takes the lease keeps answering', async () => {
    await client.delete(`${LEASES}/moor-egress-controller`);
    const leader = await waitFor(
      'a replica leading',
      async () => {
        const l = await client.get<{ spec: { holderIdentity?: string } }>(`${LEASES}/moor-egress-controller`);
        const holder = l.spec.holderIdentity;
        return holder === 'first' || holder === 'second' ? holder : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 500 },
    );
    for (const replica of ['first', 'second'] as const) {
      expect(controllers.get(replica)?.running).toBe(true);
      // The zone is served by the leader as by the standby (what the leader's own mapping writer
      // does with the slices is not this test's business).
      expect(await dig(replica, ['egress.clusterset.local', 'A'])).toMatchObject({ status: 'NOERROR' });
    }
    expect(['first', 'second']).toContain(leader);
  });
});
