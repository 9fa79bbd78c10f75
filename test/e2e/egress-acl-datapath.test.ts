// `moor acl export` on the real egress data path: the egress core scenario (egress-scenario.ts:
// controller, both gateways, both node agents, policies pay and ops with one egress IP each, a
// selected pod of the Deployment `pay`, an unselected pod `web`, a pod `ops` of the other policy),
// the mapping the controller writes, exported by the built CLI in every format and loaded into
// fw's firewall with the recipes of docs/egress-acl.md. fw counts what arrives per source before
// any filter (its prerouting set) and what it delivers after the ACL (an input counter at a later
// priority); the ACL's own drop counters must account for the rest. Then a Deployment rollout:
// the new pod leaves from the same egress IP and the rules already loaded let it through.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ACL_FORMATS, type AclFormat } from '../../src/acl/render.ts';
import { type AclFirewall, aclFirewall } from '../harness/acl-firewall.ts';
import { ipHistory, type MappedPod, mappedPods } from '../harness/acl-mapping.ts';
import {
  CORE_DESTINATION,
  EGRESS_OPS,
  EGRESS_PAY,
  type EgressCore,
  PAY_POD_IP,
  startEgressCore,
  WEB_POD_IP,
} from '../harness/egress-scenario.ts';
import { fwDelta, pingFw } from '../harness/egress-stack.ts';
import {
  addOwnedPod,
  createDeployment,
  type DeploymentHandle,
  deletePod,
} from '../harness/egress-workloads.ts';
import { moor } from '../harness/moor.ts';
import { waitFor } from '../harness/process.ts';
import { TestRun } from '../harness/run.ts';
import type { Host } from '../harness/topology.ts';

const PINGS = 4;
const NEW_POD_IP = '10.1.4.6';

let run: TestRun;
let core: EgressCore;
let deployment: DeploymentHandle;
let oldPod: string;
let fw: AclFirewall;

const acl = (args: string[]) =>
  moor(core.c.topo.host('api'), ['acl', ...args, '--kubeconfig', core.c.kubeconfigPath]);
/** The rules for the firewall in front of the pay policy's destination. */
const exportAcl = async (format: AclFormat) => {
  const r = await acl(['export', '-o', format, '--policy', 'pay', '--cluster', 'east']);
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  return r.stdout;
};

const mapped = (pods: MappedPod[]) =>
  pods
    .map((p) => `${p.namespace}/${p.pod} ${p.workload.kind}/${p.workload.name} ${p.policy} ${p.egressIP}`)
    .sort();

async function waitForMapping(expected: string[]): Promise<void> {
  let last: string[] = [];
  await waitFor(
    `the controller's EgressMapSlices: ${expected.join(', ')}`,
    async () => {
      last = mapped(await mappedPods(core.c.kc));
      return JSON.stringify(last) === JSON.stringify([...expected].sort()) ? true : undefined;
    },
    { timeoutMs: 60_000, intervalMs: 250 },
  ).catch((err: Error) => {
    throw new Error(
      `${err.message}\nlast seen: ${last.join(', ')}\n${core.stack.procs.get('api')?.tail(20)}`,
    );
  });
}

async function waitSteered(pod: Host, ip: string): Promise<void> {
  await waitFor(
    `${pod.name} leaves from ${ip}`,
    async () => ((await fwDelta(core.c, () => pingFw(pod, 2))).has(ip) ? true : undefined),
    { timeoutMs: 30_000, intervalMs: 250 },
  );
}

/** Each pod pings fw PINGS times at once: replies per pod, packets per source at fw. */
async function send(pods: Record<string, Host>, sources: string[]) {
  await fw.countDelivered(sources);
  const replies: Record<string, number> = {};
  const arrived = await fwDelta(core.c, async () => {
    await Promise.all(
      Object.entries(pods).map(async ([name, pod]) => {
        replies[name] = await pingFw(pod, PINGS);
      }),
    );
  });
  return {
    replies,
    arrived: Object.fromEntries(arrived),
    delivered: Object.fromEntries(await fw.delivered()),
  };
}
const SOURCES = [EGRESS_PAY, WEB_POD_IP, EGRESS_OPS];
const sendCore = () => send({ pay: core.pay, web: core.web, ops: core.ops }, SOURCES);

beforeAll(async () => {
  run = TestRun.start();
  core = await startEgressCore(run, 'routed', {
    addPayPod: async (c) => {
      deployment = await createDeployment(c.kc, 'shop', 'pay', { app: 'pay' }, 'v1');
      const pod = await addOwnedPod(c, deployment.replicaSet, 'x1', 'w1', PAY_POD_IP, {
        app: 'pay',
        'pod-template-hash': 'v1',
      });
      oldPod = pod.name;
      return pod.host;
    },
  });
  await waitForMapping([
    `shop/${oldPod} Deployment/pay pay ${EGRESS_PAY}`,
    `shop/ops-1 Pod/ops-1 ops ${EGRESS_OPS}`,
  ]);
  await waitSteered(core.pay, EGRESS_PAY);
  await waitSteered(core.ops, EGRESS_OPS);
  fw = await aclFirewall(core.c.topo.host('fw'), join(run.dir, 'acl'), { PROTECTED: CORE_DESTINATION });
}, 240_000);

afterAll(async () => {
  await run?.cleanup();
});

describe('moor acl exports on the egress data path', () => {
  it('without an ACL fw delivers every source (the counters count; web leaves from its pod IP, ops from its egress IP)', async () => {
    const r = await sendCore();
    expect(r.replies).toEqual({ pay: PINGS, web: PINGS, ops: PINGS });
    const all = { [EGRESS_PAY]: PINGS, [WEB_POD_IP]: PINGS, [EGRESS_OPS]: PINGS };
    expect(r.arrived).toEqual(all);
    expect(r.delivered).toEqual(all);
  });

  it.each(ACL_FORMATS)(
    '%s: loaded into fw, the pay pod gets through from its egress IP; web and the ops pod are dropped; removal leaves nothing',
    async (format) => {
      const exported = await exportAcl(format);
      await fw.load(format, exported);
      const rules = await fw.rules(format);
      expect(rules.join('\n')).toContain(EGRESS_PAY);
      expect(rules.join('\n')).not.toContain(EGRESS_OPS);
      await fw.load(format, exported); // loading again replaces, never duplicates
      expect(await fw.rules(format)).toEqual(rules);

      const r = await sendCore();
      expect(r.replies).toEqual({ pay: PINGS, web: 0, ops: 0 });
      // Every source reached fw (ops from its own egress IP) ...
      expect(r.arrived).toEqual({ [EGRESS_PAY]: PINGS, [WEB_POD_IP]: PINGS, [EGRESS_OPS]: PINGS });
      // ... and the ACL delivered the pay pod's packets only, dropping (and counting) the rest.
      expect(r.delivered).toEqual({ [EGRESS_PAY]: PINGS, [WEB_POD_IP]: 0, [EGRESS_OPS]: 0 });
      expect(await fw.dropped(format)).toBe(2 * PINGS);

      await fw.remove(format);
      expect(await fw.residue()).toEqual([]);
    },
  );

  it('after the removals fw is open again: nothing of any format is left filtering', async () => {
    const r = await sendCore();
    expect(r.delivered).toEqual({ [EGRESS_PAY]: PINGS, [WEB_POD_IP]: PINGS, [EGRESS_OPS]: PINGS });
  });

  it('a Deployment rollout: the new pod leaves from the same egress IP, the loaded rules let it through unchanged, and diff reports no change', async () => {
    const before = join(run.dir, 'old-export.json');
    writeFileSync(before, await exportAcl('json'));
    const oldNft = await exportAcl('nft');
    await fw.load('nft', oldNft);
    const loaded = await fw.rules('nft');

    // What the deployment controller does (maxSurge 1): a new ReplicaSet and pod, on the other
    // node, next to the old one; then the old pod goes and the old ReplicaSet is scaled to 0.
    const oldRs = deployment.replicaSet;
    const newRs = await deployment.rollout('v2');
    const fresh = await addOwnedPod(core.c, newRs, 'y1', 'w2', NEW_POD_IP, {
      app: 'pay',
      'pod-template-hash': 'v2',
    });
    await waitForMapping([
      `shop/${oldPod} Deployment/pay pay ${EGRESS_PAY}`,
      `shop/${fresh.name} Deployment/pay pay ${EGRESS_PAY}`,
      `shop/ops-1 Pod/ops-1 ops ${EGRESS_OPS}`,
    ]);
    const surge = await acl(['diff', before]);
    expect(surge.stdout).toBe('no changes\n');
    expect(surge.code).toBe(0);

    await deletePod(core.c.kc, 'shop', oldPod);
    await deployment.scaleDown(oldRs);
    await waitForMapping([
      `shop/${fresh.name} Deployment/pay pay ${EGRESS_PAY}`,
      `shop/ops-1 Pod/ops-1 ops ${EGRESS_OPS}`,
    ]);
    await waitSteered(fresh.host, EGRESS_PAY);

    // The firewall was not touched: the rules loaded before the rollout let the new pod through.
    const r = await send({ fresh: fresh.host, web: core.web, ops: core.ops }, SOURCES);
    expect(r.replies).toEqual({ fresh: PINGS, web: 0, ops: 0 });
    expect(r.arrived).toEqual({ [EGRESS_PAY]: PINGS, [WEB_POD_IP]: PINGS, [EGRESS_OPS]: PINGS });
    expect(r.delivered).toEqual({ [EGRESS_PAY]: PINGS, [WEB_POD_IP]: 0, [EGRESS_OPS]: 0 });
    expect(await fw.rules('nft')).toEqual(loaded);

    // Rules are per workload, not per pod: the review shows nothing to change, and the new
    // export is the old one but for its generation time.
    const after = await acl(['diff', before]);
    expect(after.stdout).toBe('no changes\n');
    expect(after.code).toBe(0);
    const body = (text: string) => text.replace(/^# moor acl export, generated \S+/, '# moor acl export');
    expect(body(await exportAcl('nft'))).toBe(body(oldNft));
    // The history keeps one open record for the workload on that IP, old and new pods in it.
    const who = await acl(['who', EGRESS_PAY]);
    expect(who.code).toBe(0);
    expect(who.stdout).toContain('shop/pay (Deployment) policy pay');
    const records = (await ipHistory(core.c.kc, EGRESS_PAY)).map(
      (r) =>
        `${r.namespace}/${r.workload.kind}/${r.workload.name} ${r.policy} ${r.to ?? 'open'} ${r.pods.join(',')}`,
    );
    expect(records).toEqual([`shop/Deployment/pay pay open ${oldPod},${fresh.name}`]);

    await fw.remove('nft');
    expect(await fw.residue()).toEqual([]);
  });
});
