// Every malformed input to `moor join` gets one clear message naming the problem and the fix, a
// non-zero exit, and leaves nothing behind: no state on the host, no object on the broker.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CoreV1Api, CustomObjectsApi, RbacAuthorizationV1Api } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiServer } from '../harness/apiserver.ts';
import { type BrokerFixture, writeBrokerInfo } from '../harness/broker.ts';
import { startBrokerAndHost } from '../harness/broker-and-host.ts';
import { expectOneMessage } from '../harness/cli-output.ts';
import { exec } from '../harness/exec.ts';
import { serviceAccountWithRole } from '../harness/kube.ts';
import { moor } from '../harness/moor.ts';
import { makeApiServerPki } from '../harness/pki.ts';
import { TestRun } from '../harness/run.ts';
import type { Topology } from '../harness/topology.ts';

let run: TestRun;
let topo: Topology;
let api: ApiServer;
let broker: BrokerFixture;
let good: string;

beforeAll(async () => {
  run = TestRun.start();
  ({ topo, api, broker, brokerInfo: good } = await startBrokerAndHost(run));
});

afterAll(async () => {
  await run?.cleanup();
});

let counter = 0;
async function failingJoin(args: string[]): Promise<{ stderr: string; code: number; stateDir: string }> {
  counter += 1;
  const stateDir = join(run.dir, `state-${counter}`);
  const r = await moor(topo.host('vm1'), [
    'join',
    ...args,
    '--state-dir',
    stateDir,
    '--interface',
    run.ifName('w'),
    '--no-start',
  ]);
  return { stderr: r.stderr, code: r.code, stateDir };
}

async function expectNothingCreated(stateDir: string, clusterId: string): Promise<void> {
  expect(existsSync(stateDir)).toBe(false);
  const core = api.kubeConfig().makeApiClient(CoreV1Api);
  const sas = await core.listNamespacedServiceAccount({ namespace: broker.namespace });
  expect(sas.items.map((s) => s.metadata?.name)).not.toContain(`cluster-${clusterId}`);
  const secrets = await core.listNamespacedSecret({ namespace: broker.namespace });
  expect(
    secrets.items.map((s) => s.metadata?.name ?? '').filter((n) => n.startsWith(`cluster-${clusterId}`)),
  ).toEqual([]);
  const cms = await core.listNamespacedConfigMap({ namespace: broker.namespace });
  expect(cms.items.filter((c) => c.metadata?.labels?.['moor/cluster-id'] === clusterId)).toEqual([]);
  const custom = api.kubeConfig().makeApiClient(CustomObjectsApi);
  const eps = (await custom.listNamespacedCustomObject({
    group: 'submariner.io',
    version: 'v1',
    namespace: broker.namespace,
    plural: 'endpoints',
  })) as {
    items: Array<{ spec: { cluster_id: string } }>;
  };
  expect(eps.items.filter((e) => e.spec.cluster_id === clusterId)).toEqual([]);
}

describe('moor join refuses bad input cleanly', () => {
  it('a corrupt broker-info file', async () => {
    const path = join(run.dir, 'corrupt.subm');
    writeFileSync(path, 'this is not base64 at all!!');
    const r = await failingJoin([path, '--clusterid', 'c1']);
    expect(r.code).not.toBe(0);
    expectOneMessage(r.stderr, /corrupt\.subm.*not base64/);
    await expectNothingCreated(r.stateDir, 'c1');
  });

  it('a broker-info file whose token field is missing', async () => {
    const decoded = JSON.parse(Buffer.from(readFileSync(good, 'utf8'), 'base64url').toString('utf8')) as {
      ClientToken: { data: Record<string, string> };
    };
    delete decoded.ClientToken.data.token;
    const path = join(run.dir, 'no-token.subm');
    writeFileSync(path, Buffer.from(JSON.stringify(decoded)).toString('base64url'));
    const r = await failingJoin([path, '--clusterid', 'c2']);
    expect(r.code).not.toBe(0);
    expectOneMessage(r.stderr, /ClientToken\.data\.token/);
    await expectNothingCreated(r.stateDir, 'c2');
  });

  it('a wrong token', async () => {
    const path = writeBrokerInfo(run.dir, api.url, broker, 'not-a-valid-token');
    const r = await failingJoin([path, '--clusterid', 'c3']);
    expect(r.code).not.toBe(0);
    expectOneMessage(r.stderr, /401/);
    expect(r.stderr).toMatch(/fix:.*token is wrong or expired/);
    await expectNothingCreated(r.stateDir, 'c3');
  });

  it('a revoked token (its service account was deleted)', async () => {
    const token = await serviceAccountWithRole(
      api.kubeConfig(),
      broker.namespace,
      'short-lived',
      'submariner-k8s-broker-admin',
    );
    await api
      .kubeConfig()
      .makeApiClient(CoreV1Api)
      .deleteNamespacedServiceAccount({ name: 'short-lived', namespace: broker.namespace });
    const path = writeBrokerInfo(run.dir, api.url, broker, token);
    const r = await failingJoin([path, '--clusterid', 'c4']);
    expect(r.code).not.toBe(0);
    expectOneMessage(r.stderr, /401/);
    await expectNothingCreated(r.stateDir, 'c4');
  });

  it('a token without the broker admin rights', async () => {
    const token = await serviceAccountWithRole(
      api.kubeConfig(),
      broker.namespace,
      'only-member',
      'submariner-k8s-broker-cluster',
    );
    const path = writeBrokerInfo(run.dir, api.url, broker, token);
    const r = await failingJoin([path, '--clusterid', 'c5']);
    expect(r.code).not.toBe(0);
    expectOneMessage(r.stderr, /403/);
    expect(r.stderr).toMatch(/fix:.*permission/);
    await expectNothingCreated(r.stateDir, 'c5');
  });

  it('an unreachable broker', async () => {
    const r = await failingJoin([good, '--clusterid', 'c6', '--broker-url', 'https://10.99.0.2:1']);
    expect(r.code).not.toBe(0);
    expectOneMessage(r.stderr, /unreachable.*ECONNREFUSED/);
    await expectNothingCreated(r.stateDir, 'c6');
  });

  it('a broker whose certificate does not match the CA in the file', async () => {
    // A valid CA certificate that did not sign the broker's serving certificate.
    const dir = join(run.dir, 'other-ca');
    await exec(['mkdir', '-p', dir]);
    const other = await makeApiServerPki(dir, ['10.99.0.2'], []);
    const path = writeBrokerInfo(run.dir, api.url, { ...broker, caCrt: other.caPem }, broker.adminToken);
    const r = await failingJoin([path, '--clusterid', 'c7']);
    expect(r.code).not.toBe(0);
    expectOneMessage(r.stderr, /TLS verification failed/);
    await expectNothingCreated(r.stateDir, 'c7');
  });

  it.each([
    [['--clusterid', 'Bad_ID'], /cluster ID/],
    [['--clusterid', 'ok1', '--port', '99999'], /--port 99999/],
    [['--clusterid', 'ok2', '--bogus'], /Unknown option '--bogus'/],
    [['--clusterid', 'ok3', '--address', '10.99.0.3'], /tunnel endpoint address/],
    [['--clusterid', 'ok4', '--address', 'not-an-ip'], /not an IPv4 address/],
  ])('a bad argument %j', async (args, pattern) => {
    const r = await failingJoin([good, ...args]);
    expect(r.code).toBe(2);
    expectOneMessage(r.stderr, pattern);
    await expectNothingCreated(r.stateDir, String(args[1]));
  });

  it('a failure half-way (the member Role is missing) rolls back everything join created', async () => {
    const rbac = api.kubeConfig().makeApiClient(RbacAuthorizationV1Api);
    const role = await rbac.readNamespacedRole({
      name: 'submariner-k8s-broker-cluster',
      namespace: broker.namespace,
    });
    await rbac.deleteNamespacedRole({ name: 'submariner-k8s-broker-cluster', namespace: broker.namespace });
    try {
      const r = await failingJoin([good, '--clusterid', 'half', '--address', '100.70.9.9']);
      expect(r.code).not.toBe(0);
      expectOneMessage(r.stderr, /no Role submariner-k8s-broker-cluster/);
      await expectNothingCreated(r.stateDir, 'half');
      const rbs = await rbac.listNamespacedRoleBinding({ namespace: broker.namespace });
      expect(rbs.items.map((b) => b.metadata?.name)).not.toContain(
        'cluster-half-submariner-k8s-broker-cluster',
      );
    } finally {
      await rbac.createNamespacedRole({
        namespace: broker.namespace,
        body: { metadata: { name: 'submariner-k8s-broker-cluster' }, rules: role.rules ?? [] },
      });
    }
  });

  it('a missing broker-info file', async () => {
    const r = await failingJoin([join(run.dir, 'nope.subm'), '--clusterid', 'c8']);
    expect(r.code).toBe(2);
    expectOneMessage(r.stderr, /nope\.subm does not exist/);
  });
});
