// The egress core scenario on the data path (egress-topology.ts + egress-stack.ts): gateway group
// `east` on gw1/gw2, policy `pay` (priority 10, Closed) and policy `ops` (Open), both to fw's
// network, each with its own egress IP; a selected pod `pay`, an unselected pod `web` and a pod
// of the other policy `ops`; controller, both gateways and both node agents running, the policies
// allocated and a gateway active. Tests that need the pay pod to be a workload's pod pass
// `addPayPod` (e.g. egress-workloads.ts addOwnedPod).
import { type EgressObjects, egressObjects } from './egress-cluster.ts';
import { EAST_GATEWAY_SPEC, type EgressStack, egressStack } from './egress-stack.ts';
import { buildEgressCluster, type CniStyle, type EgressCluster } from './egress-topology.ts';
import { waitFor } from './process.ts';
import type { TestRun } from './run.ts';
import type { Host } from './topology.ts';

export const EGRESS_PAY = '10.99.10.33';
export const EGRESS_OPS = '10.99.10.32';
export const PAY_POD_IP = '10.1.3.5';
export const WEB_POD_IP = '10.1.3.6';
export const OPS_POD_IP = '10.1.4.5';
/** Where both policies send their pods' traffic: fw's network. */
export const CORE_DESTINATION = '10.99.50.0/24';

export interface EgressCore {
  c: EgressCluster;
  eg: EgressObjects;
  stack: EgressStack;
  pay: Host;
  web: Host;
  ops: Host;
}

export interface EgressCoreOptions {
  /** Creates the selected pod (app=pay, on w1, PAY_POD_IP); default a plain Pod `pay-1`. */
  addPayPod?: (c: EgressCluster) => Promise<Host>;
}

export async function startEgressCore(
  run: TestRun,
  style: CniStyle,
  options: EgressCoreOptions = {},
): Promise<EgressCore> {
  const c = await buildEgressCluster(run, style);
  const stack = egressStack(run, c);
  const eg = egressObjects(c.kc);
  await eg.createGateway('east', EAST_GATEWAY_SPEC);
  await eg.createPolicy('pay', {
    podSelector: { matchLabels: { app: 'pay' } },
    destinations: [{ cidr: CORE_DESTINATION }],
    gateway: 'east',
    priority: 10,
  });
  await eg.createPolicy('ops', {
    podSelector: { matchLabels: { app: 'ops' } },
    destinations: [{ cidr: CORE_DESTINATION }],
    gateway: 'east',
    failurePolicy: 'Open',
  });
  const pay = await (options.addPayPod?.(c) ?? c.addPod('pay-1', 'w1', PAY_POD_IP, { app: 'pay' }));
  const web = await c.addPod('web-1', 'w1', WEB_POD_IP, { app: 'web' });
  const ops = await c.addPod('ops-1', 'w2', OPS_POD_IP, { app: 'ops' });
  stack.startController();
  stack.startGateway('gw1');
  stack.startGateway('gw2');
  stack.startNodeAgent('w1');
  stack.startNodeAgent('w2');
  await waitFor(
    'policies allocated and a gateway active',
    async () => {
      for (const proc of stack.procs.values())
        if (!proc.running) throw new Error(`${proc.name} exited:\n${proc.tail(20)}`);
      const [p, o, g] = await Promise.all([eg.policy('pay'), eg.policy('ops'), eg.gateway('east')]);
      return p.status?.ips?.[0] === EGRESS_PAY && o.status?.ips?.[0] === EGRESS_OPS && g.status?.activeNode
        ? true
        : undefined;
    },
    { timeoutMs: 60_000 },
  ).catch((err: Error) => {
    const logs = [...stack.procs.values()].map((p) => `--- ${p.name}\n${p.tail(15)}`).join('\n');
    throw new Error(`${err.message}\n${logs}`);
  });
  return { c, eg, stack, pay, web, ops };
}
