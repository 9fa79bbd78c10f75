// `moor controller`: egress IP allocation and pod resolution, wired to the API. Reflectors keep
// local copies of gateways, policies, nodes, namespaces and pods (watch, relist on error with
// back-off) and only mark the state dirty; one ReconcileLoop runs planController on a snapshot
// and writes what differs. Nothing is written before every collection has been listed once, so a
// controller that starts during an API outage can never "forget" an allocation. The ACL mapping
// (EgressMapSlices) and its history (EgressIPHistories) are planned in the same pass from the
// same resolution; their previous state is the Reflectors' copy (plus what this process wrote and
// has not seen back yet), so an unchanged reconcile makes no API call at all.
import { hostname } from 'node:os';
import { applyAclPlan } from '../acl/writer.ts';
import { MoorError } from '../errors.ts';
import { egressPaths } from '../k8s/egress-paths.ts';
import { type EgressSnapshot, EgressView } from '../k8s/egress-view.ts';
import { isNotFound, type KubeRestClient } from '../k8s/rest.ts';
import { planController, type StatusWrite } from '../plan/egress-controller.ts';
import { DEFAULT_RETENTION, parseRetention } from '../plan/egress-history.ts';
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
import { versionsOf, WrittenOverlay } from './acl-overlay.ts';

export interface EgressControllerOptions {
  client: Pick<KubeRestClient, 'get' | 'watch' | 'create' | 'replace' | 'delete' | 'mergePatch'>;
  /** Namespace for Events about the cluster-scoped egress objects (kubectl shows them there). */
  eventNamespace: string;
  resyncMs?: number;
  debounceMs?: number;
  clock?: Clock;
  identity?: string;
  /** How long closed history records are kept (parseRetention, checked at start-up). */
  aclHistoryRetentionMs?: number;
  log: (line: string) => void;
}

const DEFAULT_RETENTION_MS = (() => {
  const r = parseRetention(DEFAULT_RETENTION);
  if (!r.ok) throw new Error(r.message);
  return r.ms;
})();

export class EgressController {
  readonly loop: ReconcileLoop;
  readonly #o: EgressControllerOptions;
  readonly #clock: Clock;
  readonly #view: EgressView;
  readonly #identity: string;
  #snapshot: EgressSnapshot | undefined;
  readonly #written = { slices: new WrittenOverlay(), histories: new WrittenOverlay() };

  constructor(o: EgressControllerOptions) {
    this.#o = o;
    this.#clock = o.clock ?? systemClock;
    this.#identity = o.identity ?? `${hostname()}-moor-controller`;
    this.#view = new EgressView({
      client: o.client,
      collections: [
        'gateways',
        'policies',
        'nodes',
        'namespaces',
        'pods',
        'replicaSets',
        'jobs',
        'mapSlices',
        'histories',
      ],
      onChange: (what) => this.loop.markDirty(what),
      onError: (what, err) =>
        o.log(
          `controller: watching ${what} failed: ${err.message} (retrying${isNotFound(err) ? '; is its CRD installed? kubectl apply -k k8s/egress' : ''})`,
        ),
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
    const nowMs = this.#clock.now();
    const mapSlices = this.#written.slices.merge(snapshot.mapSlices, nowMs);
    const histories = this.#written.histories.merge(snapshot.histories, nowMs);
    const plan = planController(
      { ...snapshot, mapSlices, histories },
      new Date(nowMs).toISOString().replace(/\.\d{3}Z$/, 'Z'),
      { acl: { retentionMs: this.#o.aclHistoryRetentionMs ?? DEFAULT_RETENTION_MS } },
    );
    const out = new OutcomeBuilder();
    // The loop logs a failure once when it appears (and when it clears), not every pass.
    for (const u of plan.unreadable) out.fail('read', new MoorError('invalid-input', u));
    if (plan.acl) {
      // The mapping objects first, so status.mapping never counts slices that are not there.
      const versions = { slices: versionsOf(mapSlices), histories: versionsOf(histories) };
      const r = await applyAclPlan(this.#o.client, plan.acl, { versions });
      for (const w of r.written)
        (w.kind === 'EgressMapSlice' ? this.#written.slices : this.#written.histories).record(w, nowMs);
      for (const line of r.applied) out.applied1(`acl ${line}`);
      out.errors.push(...r.errors);
    }
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
