import { describe, expect, it } from 'vitest';
import type { Json } from '../broker/lighthouseRead.ts';
import { exportEndpointSliceName } from '../broker/lighthouseSlices.ts';
import { MoorError } from '../errors.ts';
import { FakeBroker } from './fake-broker.ts';
import { ExportPublisher, hostLabel, type PublisherIdentity } from './publisher.ts';
import type { StoredExport } from './store.ts';

const NS = 'submariner-k8s-broker';
const SI = `/apis/multicluster.x-k8s.io/v1alpha1/namespaces/${NS}/serviceimports`;
const EPS = `/apis/discovery.k8s.io/v1/namespaces/${NS}/endpointslices`;
const T_OLD = '1700000000000000000';
const T_NEW = '1800000000000000000';
const OUR_SLICE = exportEndpointSliceName('vm1', 'db', 'vms');

const identity: PublisherIdentity = {
  clusterId: 'vm1',
  brokerNamespace: NS,
  address: '100.70.0.10',
  advertisedSubnets: ['100.70.0.10/32'],
  hostLabel: 'vm1-example',
};

const db = (overrides: Partial<StoredExport> = {}): StoredExport => ({
  name: 'db',
  namespace: 'vms',
  ports: [{ name: '', protocol: 'TCP', port: 5432 }],
  health: { type: 'tcp' },
  perHostNames: false,
  exportedAt: T_NEW,
  ...overrides,
});

function setup(stored: StoredExport[] = []) {
  const broker = new FakeBroker();
  const logs: string[] = [];
  const publisher = new ExportPublisher({
    api: broker,
    identity,
    loadExports: () => stored,
    log: (l) => logs.push(l),
  });
  return { broker, publisher, logs };
}

/** What a Lighthouse agent in cluster "east" leaves on the broker for its export of vms/<svc>. */
function seedEast(broker: FakeBroker, options: { svc?: string; type?: string; port?: object } = {}) {
  const svc = options.svc ?? 'db';
  const port = options.port ?? { name: 'metrics', protocol: 'TCP', port: 9187 };
  broker.seed(SI, {
    apiVersion: 'multicluster.x-k8s.io/v1alpha1',
    kind: 'ServiceImport',
    metadata: {
      name: `${svc}-vms`,
      annotations: {
        'multicluster.kubernetes.io/service-name': svc,
        'lighthouse.submariner.io/sourceNamespace': 'vms',
        'timestamp.submariner.io/east': T_OLD,
        'lighthouse.submariner.io/use-clusterset-ip': 'false',
      },
    },
    spec: { type: options.type ?? 'ClusterSetIP', ports: [port], sessionAffinity: 'None' },
    status: { clusters: [{ cluster: 'east' }] },
  });
  broker.seed(EPS, {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: {
      name: `${svc}-abcde`,
      labels: {
        'endpointslice.kubernetes.io/managed-by': 'lighthouse-agent.submariner.io',
        'lighthouse.submariner.io/sourceNamespace': 'vms',
        'multicluster.kubernetes.io/source-cluster': 'east',
        'multicluster.kubernetes.io/service-name': svc,
        'lighthouse.submariner.io/is-headless': 'false',
        'submariner-io/clusterID': 'east',
      },
    },
    addressType: 'IPv4',
    endpoints: [{ addresses: ['10.110.0.9'], conditions: { ready: true } }],
    ports: [port],
  });
}

const si = (broker: FakeBroker, svc = 'db') => broker.object(`${SI}/${svc}-vms`);
const meta = (object: Json | undefined) =>
  (object?.metadata ?? {}) as { annotations?: Record<string, string>; resourceVersion?: string };
const slice = (broker: FakeBroker) => broker.object(`${EPS}/${OUR_SLICE}`);

describe('ExportPublisher.publish', () => {
  it('creates the import (POST, then status through PUT /status) and our slice', async () => {
    const { broker, publisher } = setup();
    const outcome = await publisher.publish(db(), { ready: true });
    expect(outcome).toEqual({
      serviceImport: 'created',
      endpointSlice: 'created',
      ports: 'unchanged',
      sliceName: OUR_SLICE,
    });
    expect(broker.writes).toEqual([`POST ${SI}`, `PUT ${SI}/db-vms/status`, `POST ${EPS}`]);
    expect(si(broker)).toMatchObject({
      metadata: {
        annotations: {
          'multicluster.kubernetes.io/service-name': 'db',
          'lighthouse.submariner.io/sourceNamespace': 'vms',
          'timestamp.submariner.io/vm1': T_NEW,
          'lighthouse.submariner.io/use-clusterset-ip': 'false',
        },
      },
      spec: { type: 'ClusterSetIP', ports: [{ protocol: 'TCP', port: 5432 }] },
      status: { clusters: [{ cluster: 'vm1' }] },
    });
    expect(si(broker)?.metadata).not.toHaveProperty('labels');
    expect(slice(broker)).toMatchObject({
      addressType: 'IPv4',
      endpoints: [{ addresses: ['100.70.0.10'], conditions: { ready: true } }],
      ports: [{ name: '', protocol: 'TCP', port: 5432 }],
      metadata: {
        labels: { 'submariner-io/clusterID': 'vm1', 'lighthouse.submariner.io/is-headless': 'false' },
      },
    });
  });

  it('writes nothing when the same export is published again', async () => {
    const { broker, publisher } = setup();
    await publisher.publish(db(), { ready: true });
    const before = broker.writes.length;
    const again = await publisher.publish(db(), { ready: true });
    expect(again).toMatchObject({
      serviceImport: 'unchanged',
      endpointSlice: 'unchanged',
      ports: 'unchanged',
    });
    expect(broker.writes.length).toBe(before);
  });

  it('flips readiness with one PUT of our slice and nothing else', async () => {
    const { broker, publisher } = setup();
    await publisher.publish(db(), { ready: true });
    const before = broker.writes.length;
    await publisher.publish(db(), { ready: false });
    expect(broker.writes.slice(before)).toEqual([`PUT ${EPS}/${OUR_SLICE}`]);
    expect(slice(broker)).toMatchObject({ endpoints: [{ conditions: { ready: false } }] });
    expect(await publisher.brokerReady(db())).toBe(false);
  });

  it("merges into another cluster's import: timestamp, status entry, ports united oldest first", async () => {
    const { broker, publisher } = setup();
    seedEast(broker);
    const outcome = await publisher.publish(db({ ports: [{ name: 'pg', protocol: 'TCP', port: 5432 }] }), {
      ready: true,
    });
    expect(outcome.serviceImport).toBe('updated');
    expect(si(broker)).toMatchObject({
      metadata: {
        annotations: { 'timestamp.submariner.io/east': T_OLD, 'timestamp.submariner.io/vm1': T_NEW },
      },
      spec: {
        type: 'ClusterSetIP',
        ports: [
          { name: 'metrics', protocol: 'TCP', port: 9187 },
          { name: 'pg', protocol: 'TCP', port: 5432 },
        ],
      },
      status: { clusters: [{ cluster: 'east' }, { cluster: 'vm1' }] },
    });
  });

  it('redoes the merge from a fresh GET when another member wrote in between (409)', async () => {
    const { broker, publisher } = setup();
    seedEast(broker);
    broker.before('PUT', `${SI}/db-vms/status`, () => {
      const current = broker.object(`${SI}/db-vms`)!;
      const status = current.status as { clusters: object[] };
      broker.seed(SI, { ...current, status: { clusters: [...status.clusters, { cluster: 'west' }] } });
    });
    await publisher.publish(db(), { ready: true });
    expect(si(broker)).toMatchObject({
      status: { clusters: [{ cluster: 'east' }, { cluster: 'west' }, { cluster: 'vm1' }] },
    });
    expect(broker.calls.filter((c) => c === `PUT ${SI}/db-vms/status`)).toHaveLength(2);
  });

  it('refuses a type conflict with a clear error and writes nothing', async () => {
    const { broker, publisher } = setup();
    seedEast(broker, { type: 'Headless', port: { name: 'x', protocol: 'TCP', port: 1 } });
    const failure = await publisher.publish(db(), { ready: true }).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(MoorError);
    expect((failure as MoorError).code).toBe('broker-conflict');
    expect((failure as MoorError).message).toMatch(
      /cannot export vms\/db: the local service type \("ClusterSetIP"\) does not match the type \("Headless"\)/,
    );
    expect((failure as MoorError).hint).toMatch(/--per-host-names/);
    expect(broker.writes).toEqual([]);
  });

  it('rolls back the import it created when the slice cannot be written', async () => {
    const { broker, publisher } = setup();
    broker.failNext('POST', EPS, 500);
    await expect(publisher.publish(db(), { ready: true })).rejects.toThrow(/500/);
    expect(broker.paths()).toEqual([]);
  });

  it("rolls back only its own part of another cluster's import", async () => {
    const { broker, publisher } = setup();
    seedEast(broker);
    const eastBefore = si(broker);
    broker.failNext('POST', EPS, 403, 'Forbidden');
    await expect(publisher.publish(db(), { ready: true })).rejects.toThrow(/403/);
    expect(si(broker)?.status).toEqual(eastBefore?.status);
    expect(meta(si(broker)).annotations).toEqual(meta(eastBefore).annotations);
    expect(slice(broker)).toBeUndefined();
  });

  it('rolls back slice and import when recomputing the ports fails', async () => {
    const { broker, publisher } = setup();
    seedEast(broker);
    broker.failNext('GET', `${EPS}?labelSelector=`, 500);
    await expect(publisher.publish(db(), { ready: true })).rejects.toThrow(/injected failure/);
    expect(slice(broker)).toBeUndefined();
    expect(si(broker)).toMatchObject({
      status: { clusters: [{ cluster: 'east' }] },
      spec: { ports: [{ name: 'metrics', protocol: 'TCP', port: 9187 }] },
    });
  });

  it('exports per-host names as a Headless import with our host name', async () => {
    const { broker, publisher } = setup();
    await publisher.publish(db({ perHostNames: true }), { ready: true });
    expect(si(broker)).toMatchObject({ spec: { type: 'Headless', ports: [] } });
    expect(slice(broker)).toMatchObject({
      metadata: { labels: { 'lighthouse.submariner.io/is-headless': 'true' } },
      endpoints: [{ addresses: ['100.70.0.10'], hostname: 'vm1-example', conditions: { ready: true } }],
    });
  });
});

describe('use-clusterset-ip (ClusterSetIP imports only)', () => {
  it('joining a Headless import that a Lighthouse agent created leaves it without the flag', async () => {
    const { broker, publisher } = setup();
    broker.seed(SI, {
      apiVersion: 'multicluster.x-k8s.io/v1alpha1',
      kind: 'ServiceImport',
      metadata: {
        name: 'db-vms',
        annotations: {
          'multicluster.kubernetes.io/service-name': 'db',
          'lighthouse.submariner.io/sourceNamespace': 'vms',
          'timestamp.submariner.io/east': T_OLD,
        },
      },
      spec: { type: 'Headless', ports: [], sessionAffinity: 'None' },
      status: { clusters: [{ cluster: 'east' }] },
    });
    await publisher.publish(db({ perHostNames: true }), { ready: true });
    expect(si(broker)).toMatchObject({ status: { clusters: [{ cluster: 'east' }, { cluster: 'vm1' }] } });
    expect(meta(si(broker)).annotations).not.toHaveProperty('lighthouse.submariner.io/use-clusterset-ip');
  });

  it('a Headless import we create has no flag; a ClusterSetIP one has "false"', async () => {
    const { broker, publisher } = setup();
    await publisher.publish(db({ perHostNames: true }), { ready: true });
    expect(meta(si(broker)).annotations).not.toHaveProperty('lighthouse.submariner.io/use-clusterset-ip');
    await publisher.publish(db({ name: 'web' }), { ready: true });
    expect(meta(si(broker, 'web')).annotations?.['lighthouse.submariner.io/use-clusterset-ip']).toBe('false');
  });
});

describe('ExportPublisher.withdraw', () => {
  it('deletes the slice and the import, with a resourceVersion precondition, when we were last', async () => {
    const { broker, publisher } = setup();
    await publisher.publish(db(), { ready: true });
    const rv = meta(si(broker)).resourceVersion;
    const deletes: unknown[] = [];
    const original = broker.delete.bind(broker);
    broker.delete = async (path, body) => {
      deletes.push({ path, body });
      return original(path, body);
    };
    const outcome = await publisher.withdraw('db', 'vms');
    expect(outcome).toEqual({ deletedSlices: [OUR_SLICE], serviceImport: 'deleted', ports: 'absent' });
    expect(deletes).toContainEqual({
      path: `${SI}/db-vms`,
      body: { preconditions: { resourceVersion: rv } },
    });
    expect(broker.paths()).toEqual([]);
  });

  it("leaves another cluster's export, minus our entry, timestamp and ports", async () => {
    const { broker, publisher } = setup();
    seedEast(broker);
    await publisher.publish(db({ ports: [{ name: 'pg', protocol: 'TCP', port: 5432 }] }), { ready: true });
    const outcome = await publisher.withdraw('db', 'vms');
    expect(outcome).toMatchObject({ serviceImport: 'updated', ports: 'updated' });
    expect(si(broker)).toMatchObject({
      spec: { ports: [{ name: 'metrics', protocol: 'TCP', port: 9187 }] },
      status: { clusters: [{ cluster: 'east' }] },
    });
    expect(JSON.stringify(si(broker))).not.toContain('vm1');
    expect(slice(broker)).toBeUndefined();
  });

  it('looks again when another member merged in just before our DELETE', async () => {
    const { broker, publisher } = setup();
    await publisher.publish(db(), { ready: true });
    broker.before('DELETE', `${SI}/db-vms`, () => {
      const current = broker.object(`${SI}/db-vms`)!;
      broker.seed(SI, { ...current, status: { clusters: [{ cluster: 'vm1' }, { cluster: 'east' }] } });
    });
    const outcome = await publisher.withdraw('db', 'vms');
    expect(outcome.serviceImport).toBe('updated');
    expect(si(broker)).toMatchObject({ status: { clusters: [{ cluster: 'east' }] } });
  });

  it('is idempotent: nothing to withdraw writes nothing', async () => {
    const { broker, publisher } = setup();
    await publisher.withdraw('db', 'vms');
    expect(broker.writes).toEqual([]);
  });
});

describe('ExportPublisher.reassertAll', () => {
  it('publishes stored exports and withdraws ours that are no longer stored', async () => {
    const { broker, publisher } = setup([db()]);
    const stale = new ExportPublisher({ api: broker, identity, loadExports: () => [] });
    await stale.publish(db({ name: 'old' }), { ready: true });
    const outcome = await publisher.reassertAll();
    expect(outcome).toEqual({ published: ['vms/db'], withdrawn: ['vms/old'], errors: [] });
    expect(broker.paths()).toEqual([`${EPS}/${OUR_SLICE}`, `${SI}/db-vms`]);
    // Readiness unknown to this process: taken from the broker, else false.
    expect(slice(broker)).toMatchObject({ endpoints: [{ conditions: { ready: false } }] });
  });

  it('keeps the readiness it last published and reports failures without stopping', async () => {
    const { broker, publisher } = setup([db(), db({ name: 'web' })]);
    await publisher.publish(db(), { ready: true });
    broker.failNext('GET', `${SI}/web-vms`, 503, 'ServiceUnavailable');
    const outcome = await publisher.reassertAll();
    expect(outcome.published).toEqual(['vms/db']);
    expect(outcome.errors).toEqual([expect.stringMatching(/^export vms\/web: .*503/)]);
    expect(slice(broker)).toMatchObject({ endpoints: [{ conditions: { ready: true } }] });
  });
});

describe('FakeBroker', () => {
  it('is strict: a call exports do not make throws', async () => {
    const broker = new FakeBroker();
    await expect(broker.get('/api/v1/namespaces/x/configmaps')).rejects.toThrow(/unexpected/);
    await expect(broker.replace(`${EPS}/x/status`, { metadata: {} })).rejects.toThrow(/unexpected/);
  });
});

describe('hostLabel', () => {
  it.each([
    ['vm1.example', 'vm1-example'],
    ['DB_1.Corp', 'db-1-corp'],
    ['--x--', 'x'],
    ['a'.repeat(70), 'a'.repeat(63)],
    ['...', 'vm1'],
  ])('%s → %s', (name, label) => {
    expect(hostLabel(name, 'vm1')).toBe(label);
  });
});
