// `moor controller`: egress IP allocation and pod resolution, wired to the API. Reflectors keep
// local copies of gateways, policies, nodes, namespaces and pods (watch, relist on error with
// back-off) and only mark the state dirty; one ReconcileLoop runs planController on a snapshot
// and writes what differs. Nothing is written before every collection has been listed once, so a
// controller that starts during an API outage can never "forget" an allocation.
import { hostname } from 'node:os';
import { MoorError } from '../errors.ts';
import { egressPaths } from '../k8s/egress-paths.ts';
import { type EgressSnapshot, EgressView } from '../k8s/egress-view.ts';
import type { KubeRestClient } from '../k8s/rest.ts';
import { planController, type StatusWrite } from '../plan/egress-controller.ts';
import { EGRESS_GROUP, EGRESS_VERSION } from '../plan/egress-read.ts';
import type { EventSpec } from '../plan/egress-status.ts';
import {
  type Clock,
  OutcomeBuilder,
  ReconcileLoop,
  type ReconcileOutcome,
  systemClock,
  waiting,
} from '../reconcile/index.ts';

export interface EgressControllerOptions {
  client: KubeRestClient;
  /** Namespace for Events about the cluster-scoped egress objects (kubectl shows them there). */
  eventNamespace: string;
  resyncMs?: number;
  debounceMs?: number;
  clock?: Clock;
  identity?: string;
  log: (line: string) => void;
}

export class EgressController {
  readonly loop: ReconcileLoop;
  readonly #o: EgressControllerOptions;
  readonly #clock: Clock;
  readonly #view: EgressView;
  readonly #identity: string;
  #snapshot: EgressSnapshot | undefined;

  constructor(o: EgressControllerOptions) {
    this.#o = o;
    this.#clock = o.clock ?? systemClock;
    this.#identity = o.identity ?? `${hostname()}-moor-controller`;
    this.#view = new EgressView({
      client: o.client,
      collections: ['gateways', 'policies', 'nodes', 'namespaces', 'pods'],
      onChange: (what) => this.loop.markDirty(what),
      onError: (what, err) => o.log(`controller: watching ${what} failed: ${err.message} (retrying)`),
    });
    this.loop = new ReconcileLoop({
      name: 'controller',
      reconcile: () => this.#reconcile(),
      debounceMs: o.debounceMs ?? 50,
      resyncMs: o.resyncMs ?? 30_000,
      clock: this.#clock,
      log: o.log,
    });
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
    this.#snapshot = snapshot;
    const plan = planController(
      snapshot,
      new Date(this.#clock.now()).toISOString().replace(/\.\d{3}Z$/, 'Z'),
    );
    const out = new OutcomeBuilder();
    for (const u of plan.unreadable) out.fail('read', new MoorError('invalid-input', u));
    for (const w of plan.writes) {
      try {
        await this.#writeStatus(w);
        out.applied1(`status ${w.kind} ${w.name}`);
      } catch (err) {
        out.fail('status', err, `${w.kind} ${w.name}`);
      }
    }
    for (const e of plan.events) {
      try {
        await this.#event(e);
        out.applied1(`event ${e.type} ${e.kind} ${e.name} ${e.reason}`);
      } catch (err) {
        out.fail('event', err, `${e.kind} ${e.name}`);
      }
    }
    return out.build();
  }

  /** A merge patch of the controller's fields only: status.activeNode belongs to the gateway. */
  async #writeStatus(w: StatusWrite): Promise<void> {
    const path =
      w.kind === 'EgressPolicy' ? egressPaths.policyStatus(w.name) : egressPaths.gatewayStatus(w.name);
    const status: Record<string, unknown> = { ...w.status };
    if (w.kind === 'EgressGateway') delete status.activeNode;
    else if (status.activeNode === undefined) status.activeNode = null;
    await this.#o.client.mergePatch(path, { status });
  }

  async #event(e: EventSpec): Promise<void> {
    const list = e.kind === 'EgressPolicy' ? this.#snapshot?.policies : this.#snapshot?.gateways;
    const obj = list?.find((o) => o.metadata?.name === e.name) as { metadata?: { uid?: string } } | undefined;
    const now = new Date(this.#clock.now()).toISOString().replace(/\.\d{3}Z$/, 'Z');
    await this.#o.client.create(egressPaths.events(this.#o.eventNamespace), {
      apiVersion: 'v1',
      kind: 'Event',
      metadata: { generateName: `${e.name}.`, namespace: this.#o.eventNamespace },
      involvedObject: {
        apiVersion: `${EGRESS_GROUP}/${EGRESS_VERSION}`,
        kind: e.kind,
        name: e.name,
        ...(obj?.metadata?.uid ? { uid: obj.metadata.uid } : {}),
      },
      type: e.type,
      reason: e.reason,
      message: e.message.slice(0, 1024),
      source: { component: 'moor-controller' },
      reportingComponent: 'moor-controller',
      reportingInstance: this.#identity,
      firstTimestamp: now,
      lastTimestamp: now,
      count: 1,
    });
  }
}
