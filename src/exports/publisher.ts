// Publishes the host's exports to the broker exactly as a Lighthouse agent would (spec §4.4):
// merge into the aggregated ServiceImport, write our one EndpointSlice, recompute spec.ports from
// every member's slices. Writes only what differs, so publishing the same export again writes
// nothing; a failure undoes what that call created, so the broker never holds half an export.
import type { ServiceImportInput } from '../broker/lighthouse.ts';
import { buildExportEndpointSlice, type ExportEndpointSlice } from '../broker/lighthouseSlices.ts';
import { MoorError } from '../errors.ts';
import { type BrokerApi, deleteIfExists, type ExportsMember, getIfExists } from './brokerApi.ts';
import {
  ensureSlice,
  ourSliceNames,
  ourSliceReady,
  type ServiceRef,
  type SliceOutcome,
  servicesExportedOnBroker,
  slicePath,
} from './endpointSliceWriter.ts';
import {
  listsCluster,
  mergeOurExport,
  type PortsOutcome,
  recomputePorts,
  type ServiceImportOutcome,
  type ServiceImportWithdrawOutcome,
  serviceImportPath,
  type WriteProgress,
  withdrawOurEntry,
} from './serviceImportWriter.ts';
import { checkedExport, exportKey, type StoredExport } from './store.ts';

export interface PublisherIdentity {
  clusterId: string;
  brokerNamespace: string;
  /** The host's clusterset address our slice points at (`state.addresses[0]`). */
  address: string;
  /** What the host advertises (its addresses as /32): the slice address must lie inside. */
  advertisedSubnets: string[];
  /** The host's name as a DNS label, for `<host>.<cluster>.<svc>.<ns>.svc.clusterset.local`. */
  hostLabel: string;
}

export interface PublishOutcome {
  serviceImport: ServiceImportOutcome;
  endpointSlice: SliceOutcome;
  ports: PortsOutcome;
  sliceName: string;
}

export interface WithdrawOutcome {
  deletedSlices: string[];
  serviceImport: ServiceImportWithdrawOutcome;
  ports: PortsOutcome;
}

export interface ReassertOutcome {
  published: string[];
  withdrawn: string[];
  /** One line per export that failed; the others were still done. */
  errors: string[];
}

export interface PublisherOptions {
  api: BrokerApi;
  identity: PublisherIdentity;
  /** The desired exports (the store), read on every reassertAll. */
  loadExports: () => readonly StoredExport[];
  log?: (line: string) => void;
}

export function publisherIdentity(state: ExportsMember): PublisherIdentity {
  const address = state.addresses[0];
  if (address === undefined) {
    throw new MoorError('invalid-input', 'this host has no clusterset address to export services on', {
      hint: 'the state is incomplete: run `moor leave` and join again',
    });
  }
  return {
    clusterId: state.clusterId,
    brokerNamespace: state.broker.namespace,
    address,
    advertisedSubnets: state.addresses.map((a) => `${a}/32`),
    hostLabel: hostLabel(state.hostname, state.clusterId),
  };
}

/** The host name as one DNS-1123 label: "DB-1.corp.example" becomes "db-1-corp-example". */
export function hostLabel(hostname: string, fallback: string): string {
  const label = hostname
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .replace(/-+/g, '-')
    .replace(/^-+/, '')
    .slice(0, 63)
    .replace(/-+$/, '');
  return label === '' ? fallback : label;
}

export class ExportPublisher {
  private readonly api: BrokerApi;
  private readonly id: PublisherIdentity;
  private readonly loadExports: () => readonly StoredExport[];
  private readonly log: (line: string) => void;
  /** Readiness last published per export key, for reassertAll. */
  private readonly lastReady = new Map<string, boolean>();
  private queue: Promise<unknown> = Promise.resolve();

  constructor(options: PublisherOptions) {
    this.api = options.api;
    this.id = options.identity;
    this.loadExports = options.loadExports;
    this.log = options.log ?? (() => {});
  }

  /** Publishes one export with the given readiness; see the file comment. */
  publish(exp: StoredExport, options: { ready: boolean }): Promise<PublishOutcome> {
    return this.serially(() => this.publishNow(exp, options.ready));
  }

  /** Deletes our slices of the service and our part of its import; nothing to do is fine. */
  withdraw(name: string, namespace: string): Promise<WithdrawOutcome> {
    return this.serially(() => this.withdrawNow(name, namespace));
  }

  /**
   * Makes the broker follow the store: publishes every stored export (readiness as last
   * published, else as the broker has it) and withdraws ours that are no longer stored, e.g.
   * after an unexport that could not reach the broker. Errors are collected, not thrown.
   */
  reassertAll(): Promise<ReassertOutcome> {
    return this.serially(() => this.reassertAllNow());
  }

  /** The ready flag of our slice on the broker, or undefined when it is not there. */
  brokerReady(exp: Pick<StoredExport, 'name' | 'namespace'>): Promise<boolean | undefined> {
    return ourSliceReady(this.api, this.id.brokerNamespace, this.id.clusterId, exp);
  }

  /** One change at a time: the health loop and the resync share a publisher. */
  private serially<T>(work: () => Promise<T>): Promise<T> {
    const result = this.queue.then(work);
    this.queue = result.catch(() => undefined);
    return result;
  }

  private async publishNow(exportToPublish: StoredExport, ready: boolean): Promise<PublishOutcome> {
    const exp = checkedExport(exportToPublish);
    const slice = this.sliceFor(exp, ready);
    const ns = this.id.brokerNamespace;
    const siPath = serviceImportPath(ns, exp.name, exp.namespace);
    const before = await getIfExists(this.api, siPath);
    const progress: WriteProgress = { serviceImportWritten: false };
    let sliceCreated = false;
    try {
      const serviceImport = await mergeOurExport(this.api, ns, this.importInput(exp), before, progress);
      const endpointSlice = await ensureSlice(this.api, ns, slice);
      sliceCreated = endpointSlice === 'created';
      const ports = await recomputePorts(this.api, ns, exp.name, exp.namespace);
      this.lastReady.set(exportKey(exp.name, exp.namespace), ready);
      return { serviceImport, endpointSlice, ports, sliceName: slice.metadata.name };
    } catch (err) {
      const undo: Array<() => Promise<unknown>> = [];
      if (sliceCreated) undo.push(() => deleteIfExists(this.api, slicePath(ns, slice.metadata.name)));
      if (progress.serviceImportWritten && !listsCluster(before, this.id.clusterId)) {
        undo.push(() => withdrawOurEntry(this.api, ns, exp.name, exp.namespace, this.id.clusterId));
        undo.push(() => recomputePorts(this.api, ns, exp.name, exp.namespace));
      }
      throw await rolledBack(err, undo);
    }
  }

  private async withdrawNow(name: string, namespace: string): Promise<WithdrawOutcome> {
    const ns = this.id.brokerNamespace;
    const deletedSlices: string[] = [];
    for (const sliceName of await ourSliceNames(this.api, ns, this.id.clusterId, { name, namespace })) {
      if (await deleteIfExists(this.api, slicePath(ns, sliceName))) deletedSlices.push(sliceName);
    }
    const serviceImport = await withdrawOurEntry(this.api, ns, name, namespace, this.id.clusterId);
    const ports =
      serviceImport === 'deleted' ? 'absent' : await recomputePorts(this.api, ns, name, namespace);
    this.lastReady.delete(exportKey(name, namespace));
    return { deletedSlices, serviceImport, ports };
  }

  private async reassertAllNow(): Promise<ReassertOutcome> {
    const outcome: ReassertOutcome = { published: [], withdrawn: [], errors: [] };
    const desired = this.loadExports();
    const wanted = new Set(desired.map((e) => exportKey(e.name, e.namespace)));
    for (const exp of desired) {
      const key = exportKey(exp.name, exp.namespace);
      try {
        const ready = this.lastReady.get(key) ?? (await this.brokerReady(exp)) ?? false;
        const result = await this.publishNow(exp, ready);
        if (result.serviceImport !== 'unchanged' || result.endpointSlice !== 'unchanged')
          this.log(
            `export ${key}: ServiceImport ${result.serviceImport}, EndpointSlice ${result.endpointSlice}`,
          );
        outcome.published.push(key);
      } catch (err) {
        outcome.errors.push(`export ${key}: ${err instanceof Error ? err.message : String(err)}`);
      }
    }
    let published: ServiceRef[];
    try {
      published = await servicesExportedOnBroker(this.api, this.id.brokerNamespace, this.id.clusterId);
    } catch (err) {
      outcome.errors.push(`listing our exports: ${err instanceof Error ? err.message : String(err)}`);
      published = [];
    }
    for (const { name, namespace } of published) {
      const key = exportKey(name, namespace);
      if (wanted.has(key)) continue;
      try {
        await this.withdrawNow(name, namespace);
        this.log(`export ${key}: withdrawn (no longer in the store)`);
        outcome.withdrawn.push(key);
      } catch (err) {
        outcome.errors.push(`unexport ${key}: ${err instanceof Error ? err.message : String(err)}`);
      }
    }
    // Not logged here: the caller's reconcile loop logs each error once while it persists.
    return outcome;
  }

  private importInput(exp: StoredExport): ServiceImportInput {
    return {
      clusterId: this.id.clusterId,
      serviceName: exp.name,
      serviceNamespace: exp.namespace,
      type: exp.perHostNames ? 'Headless' : 'ClusterSetIP',
      ports: exp.ports,
      exportTimestampNs: exp.exportedAt,
    };
  }

  private sliceFor(
    exp: Pick<StoredExport, 'name' | 'namespace' | 'ports' | 'perHostNames'>,
    ready: boolean,
  ): ExportEndpointSlice {
    const common = {
      clusterId: this.id.clusterId,
      brokerNamespace: this.id.brokerNamespace,
      serviceName: exp.name,
      serviceNamespace: exp.namespace,
      ports: exp.ports,
      advertisedSubnets: this.id.advertisedSubnets,
    };
    return exp.perHostNames
      ? buildExportEndpointSlice({
          ...common,
          headless: { endpoints: [{ address: this.id.address, hostname: this.id.hostLabel, ready }] },
        })
      : buildExportEndpointSlice({ ...common, address: this.id.address, ready });
  }
}

/** Runs the undo steps (best effort, in order) and returns the error to throw. */
async function rolledBack(err: unknown, undo: ReadonlyArray<() => Promise<unknown>>): Promise<unknown> {
  const failures: string[] = [];
  for (const step of undo) {
    try {
      await step();
    } catch (undoErr) {
      failures.push(undoErr instanceof Error ? undoErr.message : String(undoErr));
    }
  }
  if (failures.length === 0 || !(err instanceof MoorError)) return err;
  return new MoorError(
    err.code,
    `${err.message}; undoing the partial export failed too: ${failures.join('; ')}`,
    {
      cause: err,
      hint: `${err.hint ?? 'fix the cause'}, then run \`moor unexport\` and export again to clean up`,
    },
  );
}
