// The Lighthouse object shapes moor reads and writes (spec §4.2), in a module of their own so the
// reader, the port arithmetic and the ServiceImport merge can all use them without a cycle.
import type { MCS_API_VERSION } from './lighthouseKeys.ts';

/** `mcsv1a1.ServicePort` as Go serialises it: name and protocol are omitted when empty. */
export interface ServiceImportPort {
  name?: string;
  protocol?: string;
  port: number;
  appProtocol?: string;
}

export type ServiceImportType = 'ClusterSetIP' | 'Headless';
export type SessionAffinity = 'None' | 'ClientIP';

export interface SessionAffinityConfig {
  clientIP: { timeoutSeconds: number };
}

export interface ClusterStatus {
  cluster: string;
}

/** Fields we own are typed; anything else an existing object carries is kept as it was. */
export interface ServiceImportObject {
  apiVersion: typeof MCS_API_VERSION;
  kind: 'ServiceImport';
  metadata: {
    name: string;
    namespace?: string;
    annotations: Record<string, string>;
    [field: string]: unknown;
  };
  spec: {
    type: ServiceImportType;
    ports: ServiceImportPort[];
    sessionAffinity?: string;
    sessionAffinityConfig?: unknown;
    [field: string]: unknown;
  };
  status: { clusters: ClusterStatus[]; [field: string]: unknown };
  [field: string]: unknown;
}
