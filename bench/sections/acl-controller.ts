// 8b. The ACL mapping at scale through the real `moor controller` (the shipped bundle) on the
// test API server: 10,000 selected Pod objects (100 Deployments' ReplicaSets × 100 pods, over 10
// policies) → EgressMapSlice objects written (count, bytes as the API returns them), last Pod
// write → every pod mapped, one pod change → its slice updated in the API, an unchanged resync
// writing nothing, and `moor acl export` wall time (the CLI against the API). Pod objects only:
// no kubelet, no data path (the mapping does not need one).
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { AppsV1Api, CoreV1Api, CustomObjectsApi } from '@kubernetes/client-node';
import { startApiServer, startEtcd } from '../../test/harness/apiserver.ts';
import {
  createNamespace,
  createNode,
  deployEgressCrds,
  egressObjects,
  GROUP,
  VERSION,
} from '../../test/harness/egress-cluster.ts';
import { moor, startMoor } from '../../test/harness/moor.ts';
import { waitFor } from '../../test/harness/process.ts';
import { TestRun } from '../../test/harness/run.ts';
import { buildTopology } from '../../test/harness/topology.ts';
import { cpuSecondsOf, memoryOf } from '../lib/proc-stats.ts';
import type { Section } from '../lib/section.ts';
import { fmt, inParallel, median } from '../lib/stats.ts';

const PODS = 10_000;
const POLICIES = 10;
const DEPLOYMENTS = 100;
const WRITERS = 16;
const CHANGES = 5;
const EXPORTS = 3;

interface SliceObject {
  metadata: { name: string; resourceVersion: string };
  entries?: { pod: string }[];
}

export const aclControllerSection: Section = {
  name: 'acl-controller',
  title: `ACL mapping of ${PODS.toLocaleString('en')} pods by moor controller on the API server: slices, change → slice, export`,
  usesOracle: false,
  timeoutMs: 1_500_000,
  async run(ctx) {
    const run = TestRun.start();
    try {
      const topo = await buildTopology(run, {
        hosts: { api: {}, ctl: {} },
        links: [{ a: { host: 'api', address: '10.99.0.2/24' }, b: { host: 'ctl', address: '10.99.0.3/24' } }],
      });
      const etcd = await startEtcd(run, topo.host('api'));
      const api = await startApiServer(run, {
        name: 'aclbench',
        host: topo.host('api'),
        etcd,
        address: '10.99.0.2',
        controllerManager: false,
      });
      const kc = api.kubeConfig();
      await deployEgressCrds(api);
      await createNamespace(kc, 'moor-egress');
      await createNamespace(kc, 'shop');
      await createNode(kc, 'gw1', '10.99.10.2', { 'egress.moor.io/gateway': 'east' });
      for (let w = 1; w <= 10; w++) await createNode(kc, `w${w}`, `10.99.10.${100 + w}`);
      const eg = egressObjects(kc);
      await eg.createGateway('east', {
        nodeSelector: { matchLabels: { 'egress.moor.io/gateway': 'east' } },
        pool: { cidrs: ['10.99.10.32/28'] },
        interface: 'lan0',
        subnet: '10.99.10.0/24',
        floatingIP: '10.99.10.254',
        vni: 4100,
      });
      for (let p = 0; p < POLICIES; p++)
        await eg.createPolicy(`policy-${p}`, {
          podSelector: { matchLabels: { policy: `p${p}` } },
          destinations: [{ cidr: `10.${50 + p}.0.0/24` }],
          gateway: 'east',
        });
      const kubeconfig = join(run.dir, 'controller.kubeconfig');
      writeFileSync(kubeconfig, api.kubeConfigYaml(), { mode: 0o600 });
      const controller = startMoor(topo.host('ctl'), 'controller', [
        'controller',
        '--kubeconfig',
        kubeconfig,
        '--identity',
        'bench',
      ]);

      const apps = kc.makeApiClient(AppsV1Api);
      const core = kc.makeApiClient(CoreV1Api);
      const custom = kc.makeApiClient(CustomObjectsApi);
      const replicaSets: { name: string; uid: string; policy: number }[] = [];
      for (let d = 0; d < DEPLOYMENTS; d++) {
        const name = `app-${d}-5d8f7c`;
        const labels = { app: `app-${d}`, policy: `p${d % POLICIES}` };
        const rs = await apps.createNamespacedReplicaSet({
          namespace: 'shop',
          body: {
            metadata: {
              name,
              labels,
              ownerReferences: [
                {
                  apiVersion: 'apps/v1',
                  kind: 'Deployment',
                  name: `app-${d}`,
                  uid: `00000000-0000-4000-8000-${String(d).padStart(12, '0')}`,
                  controller: true,
                },
              ],
            },
            spec: {
              selector: { matchLabels: labels },
              template: { metadata: { labels }, spec: { containers: [{ name: 'app', image: 'app:1' }] } },
            },
          },
        });
        replicaSets.push({ name, uid: rs.metadata?.uid ?? '', policy: d % POLICIES });
      }
      const podBody = (i: number) => {
        const rs = replicaSets[i % DEPLOYMENTS] as (typeof replicaSets)[number];
        return {
          metadata: {
            name: `${rs.name}-${i}`,
            labels: { app: rs.name, policy: `p${rs.policy}` },
            ownerReferences: [
              { apiVersion: 'apps/v1', kind: 'ReplicaSet', name: rs.name, uid: rs.uid, controller: true },
            ],
          },
          spec: {
            nodeName: `w${(i % 10) + 1}`,
            automountServiceAccountToken: false,
            containers: [{ name: 'app', image: 'app:1' }],
          },
        };
      };
      const started = Date.now();
      await inParallel(
        Array.from({ length: PODS }, (_, i) => i),
        WRITERS,
        async (i) => {
          await core.createNamespacedPod({ namespace: 'shop', body: podBody(i) });
        },
      );
      const lastWrite = Date.now();
      ctx.log(`${PODS} Pods created in ${lastWrite - started} ms (${WRITERS} writers)`);

      const listSlices = async () =>
        (
          (await custom.listClusterCustomObject({
            group: GROUP,
            version: VERSION,
            plural: 'egressmapslices',
          })) as {
            items: SliceObject[];
          }
        ).items;
      const mapped = await waitFor(
        'every pod in the mapping',
        async () => {
          const items = await listSlices();
          const n = items.reduce((sum, s) => sum + (s.entries?.length ?? 0), 0);
          return n === PODS ? { at: Date.now(), items } : undefined;
        },
        { timeoutMs: 600_000, intervalMs: 500, process: controller },
      );
      const bytes = mapped.items.map((s) => JSON.stringify(s).length);
      ctx.figure({
        name: `EgressMapSlices for ${PODS} pods (API objects)`,
        value: mapped.items.length,
        unit: 'objects',
      });
      ctx.figure({
        name: 'their size as the API returns them (JSON)',
        value: bytes.reduce((a, b) => a + b, 0) / 1e6,
        unit: 'MB',
        digits: 2,
      });
      ctx.figure({ name: 'largest slice', value: Math.max(...bytes) / 1e3, unit: 'kB', digits: 1 });
      ctx.figure({
        name: `last Pod write → all ${PODS} pods in the slices (upper bound: 500 ms polling of the list)`,
        value: mapped.at - lastWrite,
        unit: 'ms',
      });
      ctx.log(
        `controller VmRSS ${fmt(memoryOf(controller.pid).rssMiB, 1)} MiB, CPU ${fmt(cpuSecondsOf(controller.pid), 1)} s so far`,
      );

      // One pod deleted → its slice drops it; created again → the slice (the only one with room) holds it.
      const changes: number[] = [];
      for (let k = 0; k < CHANGES; k++) {
        const i = 4242 + k * 997;
        const pod = podBody(i).metadata.name;
        const slice = mapped.items.find((s) => s.entries?.some((e) => e.pod === pod))?.metadata.name ?? '';
        const hasPod = async (want: boolean) => {
          const s = (await custom.getClusterCustomObject({
            group: GROUP,
            version: VERSION,
            plural: 'egressmapslices',
            name: slice,
          })) as SliceObject;
          return (s.entries ?? []).some((e) => e.pod === pod) === want ? true : undefined;
        };
        let t0 = Date.now();
        await core.deleteNamespacedPod({ namespace: 'shop', name: pod, gracePeriodSeconds: 0 });
        await waitFor(`${pod} out of ${slice}`, () => hasPod(false), { timeoutMs: 60_000, intervalMs: 10 });
        changes.push(Date.now() - t0);
        t0 = Date.now();
        await core.createNamespacedPod({ namespace: 'shop', body: podBody(i) });
        await waitFor(`${pod} back in ${slice}`, () => hasPod(true), { timeoutMs: 60_000, intervalMs: 10 });
        changes.push(Date.now() - t0);
      }
      ctx.figure({
        name: 'one pod deleted or created → its slice updated in the API, median',
        value: median(changes),
        unit: 'ms',
        samples: changes,
      });

      // An unchanged pass (the 30 s resync) writes nothing.
      const before = new Map((await listSlices()).map((s) => [s.metadata.name, s.metadata.resourceVersion]));
      await new Promise((r) => setTimeout(r, 35_000));
      const after = await listSlices();
      const rewritten = after.filter(
        (s) => before.get(s.metadata.name) !== s.metadata.resourceVersion,
      ).length;
      ctx.figure({
        name: 'slices rewritten by an unchanged resync (35 s idle)',
        value: rewritten,
        unit: 'objects',
      });

      const ctl = topo.host('ctl');
      for (const format of ['json', 'nft'] as const) {
        const samples: number[] = [];
        let size = 0;
        for (let k = 0; k < EXPORTS; k++) {
          const t0 = Date.now();
          const r = await moor(ctl, ['acl', 'export', '-o', format, '--kubeconfig', kubeconfig]);
          samples.push(Date.now() - t0);
          if (r.code !== 0) throw new Error(`moor acl export -o ${format}: ${r.stderr}`);
          size = r.stdout.length;
        }
        ctx.figure({
          name: `moor acl export -o ${format} (CLI process against the API, ${fmt(size / 1e3, 0)} kB out), median`,
          value: median(samples),
          unit: 'ms',
          samples,
        });
      }
      ctx.log(
        `controller VmRSS ${fmt(memoryOf(controller.pid).rssMiB, 1)} MiB (HWM ${fmt(memoryOf(controller.pid).hwmMiB, 1)}), CPU ${fmt(cpuSecondsOf(controller.pid), 1)} s total`,
      );
      ctx.figure({
        name: 'controller VmHWM with 10,000 pods',
        value: memoryOf(controller.pid).hwmMiB,
        unit: 'MiB',
        digits: 1,
      });
      ctx.note(
        `Pod objects only (no kubelet), ${DEPLOYMENTS} ReplicaSets, ${POLICIES} policies, ${WRITERS} parallel writers`,
      );
    } finally {
      await run.cleanup();
    }
  },
};
