// Local copies of the collections the egress components read, one Reflector each: any change
// marks the owner dirty; `snapshot()` is undefined until every collection has been listed once,
// so a component never acts on a half-known cluster ("not synced yet → touch nothing").
import type { MoorError } from '../errors.ts';
import { egressPaths } from './egress-paths.ts';
import { type KubeObject, Reflector, type ReflectorClient } from './reflector.ts';

export type EgressCollection =
  | 'gateways'
  | 'policies'
  | 'nodes'
  | 'namespaces'
  | 'pods'
  // The controller's ACL mapping: pod owners and the mapping/history objects it last wrote.
  | 'replicaSets'
  | 'jobs'
  | 'mapSlices'
  | 'histories';

const PATHS: Record<EgressCollection, string> = {
  gateways: egressPaths.gateways,
  policies: egressPaths.policies,
  nodes: egressPaths.nodes,
  namespaces: egressPaths.namespaces,
  pods: egressPaths.pods,
  replicaSets: egressPaths.replicaSets,
  jobs: egressPaths.jobs,
  mapSlices: egressPaths.mapSlices,
  histories: egressPaths.histories,
};

export type EgressSnapshot = Record<EgressCollection, KubeObject[]>;

export class EgressView {
  readonly #reflectors: Map<EgressCollection, Reflector>;

  constructor(o: {
    client: ReflectorClient;
    collections: readonly EgressCollection[];
    onChange: (what: EgressCollection) => void;
    onError: (what: EgressCollection, err: MoorError) => void;
  }) {
    this.#reflectors = new Map(
      o.collections.map((c) => [
        c,
        new Reflector({
          client: o.client,
          path: PATHS[c],
          onChange: () => o.onChange(c),
          onError: (err) => o.onError(c, err),
        }),
      ]),
    );
  }

  start(): void {
    for (const r of this.#reflectors.values()) r.start();
  }

  async stop(): Promise<void> {
    await Promise.all([...this.#reflectors.values()].map((r) => r.stop()));
  }

  unsynced(): EgressCollection[] {
    return [...this.#reflectors].filter(([, r]) => !r.synced).map(([c]) => c);
  }

  /** Every collection's objects; collections not watched are empty. */
  snapshot(): EgressSnapshot | undefined {
    if (this.unsynced().length > 0) return undefined;
    const list = (c: EgressCollection) => this.#reflectors.get(c)?.list() ?? [];
    return Object.fromEntries(
      (Object.keys(PATHS) as EgressCollection[]).map((c) => [c, list(c)]),
    ) as EgressSnapshot;
  }
}
