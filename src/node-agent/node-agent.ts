// `moor node-agent`: steers the selected pods of this node to their group's gateway and drops
// what cannot be steered (failurePolicy Closed). Watches only mark dirty; one ReconcileLoop plans
// (planNodeEgress, pure) and applies through the dataplane ports in an order that never opens a
// gap: devices, neighbours, routes and rules first, then the nft table (steering map and guards
// in one atomic transaction), then removal of what is no longer wanted. At exit nothing is torn
// down: steering and the fail-closed guards stay in the kernel while the agent is away.
import {
  describeEgressLinkChange,
  describeRouteChange,
  describeRuleChange,
  type EgressLinkBasic,
  type NetlinkBasic,
  type NftablesBasic,
  OwnedTable,
  reconcileAddresses,
  reconcileMarkedRouting,
  reconcileNeighbours,
  reconcileSysctls,
  reconcileVxlans,
  type SysctlBasic,
} from '../dataplane/index.ts';
import { EgressView } from '../k8s/egress-view.ts';
import type { KubeRestClient } from '../k8s/rest.ts';
import { GROUP_ROUTING, NODE_TABLE, VXLAN_PREFIX } from '../plan/egress-names.ts';
import { type NodeEgressDesired, planNodeEgress } from '../plan/egress-node.ts';
import { OutcomeBuilder, ReconcileLoop, type ReconcileOutcome, waiting } from '../reconcile/index.ts';
import { type NodeAgentConfig, nodeEgressInput } from './snapshot.ts';

export interface NodeAgentPorts {
  netlink: NetlinkBasic;
  links: EgressLinkBasic;
  nft: NftablesBasic;
  sysctl: SysctlBasic;
}

export interface NodeAgentOptions {
  client: KubeRestClient;
  config: NodeAgentConfig;
  ports: NodeAgentPorts;
  resyncMs?: number;
  log: (line: string) => void;
}

export class NodeAgent {
  readonly loop: ReconcileLoop;
  readonly #o: NodeAgentOptions;
  readonly #view: EgressView;
  readonly #table: OwnedTable;
  #last: NodeEgressDesired | undefined;

  constructor(o: NodeAgentOptions) {
    this.#o = o;
    this.#table = new OwnedTable(o.ports.nft, NODE_TABLE, 'ip');
    this.#view = new EgressView({
      client: o.client,
      collections: ['gateways', 'policies', 'namespaces', 'pods', 'nodes'],
      onChange: (what) => this.loop.markDirty(what),
      onError: (what, err) => o.log(`node-agent: watching ${what} failed: ${err.message} (retrying)`),
    });
    this.loop = new ReconcileLoop({
      name: 'node-agent',
      reconcile: () => this.#reconcile(),
      debounceMs: 10,
      resyncMs: o.resyncMs ?? 30_000,
      log: o.log,
    });
  }

  /** The last desired state (for status and tests). */
  get desired(): NodeEgressDesired | undefined {
    return this.#last;
  }

  start(): void {
    this.#view.start();
    this.loop.start();
  }

  async stop(): Promise<void> {
    await this.loop.stop();
    await this.#view.stop();
  }

  async #reconcile(): Promise<ReconcileOutcome> {
    const snapshot = this.#view.snapshot();
    if (!snapshot) return waiting(`not listed yet: ${this.#view.unsynced().join(', ')}`);
    const { netlink, links } = this.#o.ports;
    const out = new OutcomeBuilder();
    const lan = await netlink.linkGet(this.#o.config.underlayDevice);
    if (!lan) {
      out.fail('link', new Error(`underlay device ${this.#o.config.underlayDevice} does not exist`));
      return out.build();
    }
    const desired = planNodeEgress(nodeEgressInput(this.#o.config, lan.mtu, snapshot));
    this.#last = desired;

    out.add('vxlan', await reconcileVxlans(links, VXLAN_PREFIX, desired.vxlans), describeEgressLinkChange);
    out.add('neighbour', await reconcileNeighbours(links, desired.neighbours), describeEgressLinkChange);
    // Inbound from a gateway arrives on the VXLAN from any client address (loose rp_filter,
    // which needs an address on the device).
    out.add(
      'sysctl',
      await reconcileSysctls(this.#o.ports.sysctl, desired.sysctls),
      describeEgressLinkChange,
    );
    for (const v of desired.vxlanAddresses)
      out.add(
        'address',
        await reconcileAddresses(netlink, v.dev, v.cidrs),
        (c) => `${c.op} ${c.cidr} dev ${c.dev}`,
      );
    const routing = await reconcileMarkedRouting(netlink, GROUP_ROUTING, desired);
    for (const t of routing.routes) out.add('route', t.result, describeRouteChange(t.table));
    out.add('rule', routing.rules, describeRuleChange);
    out.add('nft', await this.#table.apply(desired.table), (c) => `${c.op} ${c.table} (${c.reason})`);
    return out.build();
  }
}
