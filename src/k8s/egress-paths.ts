// REST paths of the egress objects and the core objects the egress components read.
export const EGRESS_GROUP = 'egress.moor.io';
export const EGRESS_VERSION = 'v1alpha1';

const base = `/apis/${EGRESS_GROUP}/${EGRESS_VERSION}`;

export const egressPaths = {
  gateways: `${base}/egressgateways`,
  policies: `${base}/egresspolicies`,
  gatewayStatus: (name: string) => `${base}/egressgateways/${encodeURIComponent(name)}/status`,
  policyStatus: (name: string) => `${base}/egresspolicies/${encodeURIComponent(name)}/status`,
  nodes: '/api/v1/nodes',
  namespaces: '/api/v1/namespaces',
  pods: '/api/v1/pods',
  /** Pod owners the ACL mapping resolves through (controller only). */
  replicaSets: '/apis/apps/v1/replicasets',
  jobs: '/apis/batch/v1/jobs',
  mapSlices: `${base}/egressmapslices`,
  histories: `${base}/egressiphistories`,
  events: (namespace: string) => `/api/v1/namespaces/${encodeURIComponent(namespace)}/events`,
};
