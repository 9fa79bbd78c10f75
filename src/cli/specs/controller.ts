// `moor controller`.
import type { CommandSpec } from '../spec/types.ts';
import { ACL_HISTORY_RETENTION, BROKER_KUBECONFIG, BROKER_NAMESPACE, CLUSTER_ID } from './acl.ts';
import { EGRESS_MAP_OPTIONS } from './egress-map.ts';
import { LISTEN, RESYNC } from './shared.ts';

export const CONTROLLER_SPEC: CommandSpec = {
  name: 'controller',
  summary: 'run the egress controller (IP allocation, pod resolution, status)',
  description: [
    "Allocate static egress IPs from each EgressGateway's pool to the EgressPolicies that use it, resolve every pod to at most one policy (highest priority, then the policy name that sorts first), and write allocations, selected pod counts and conditions to the objects' status, with Events for bad input. Allocations are sticky: they are re-derived from status after a restart or failover.",
    'It also writes the ACL mapping: EgressMapSlices (which workload leaves from which egress IP, per pod) and one EgressIPHistory per IP (who held it, from when to when), and a summary on each policy as status.mapping. See docs/egress-acl.md.',
    'Run it as a Deployment; replicas elect a leader on a Lease. See docs/egress.md.',
    'With --dns-listen every replica, standbys too, answers the egress names and the egress IPs\' PTRs from the mapping objects (docs/egress-acl.md, "In-cluster DNS").',
    "With --cluster-id and --broker-kubeconfig the leader also publishes this cluster's egress mapping summary to the broker (EgressMapSummary objects named <cluster-id>-..., labelled submariner-io/clusterID), for `moor acl export --clusterset` and the hosts' reverse DNS. See docs/egress-acl.md.",
  ],
  positionals: [],
  options: [
    {
      name: 'kubeconfig',
      kind: 'string',
      arg: 'FILE',
      description: "credentials for this cluster's API",
      defaultText: 'in-cluster service account',
      config: 'command',
      complete: 'file',
    },
    {
      name: 'lease-namespace',
      kind: 'string',
      arg: 'NS',
      description: 'namespace of the leader election Lease',
      default: 'moor-egress',
      config: 'command',
    },
    {
      name: 'event-namespace',
      kind: 'string',
      arg: 'NS',
      description: 'namespace for Events about the cluster-scoped egress objects',
      default: 'default',
      config: 'command',
    },
    {
      name: 'identity',
      kind: 'string',
      arg: 'NAME',
      description: 'leader election identity',
      defaultText: '<hostname>-moor-controller',
    },
    ACL_HISTORY_RETENTION,
    { ...RESYNC, config: 'command' },
    ...EGRESS_MAP_OPTIONS,
    CLUSTER_ID,
    BROKER_KUBECONFIG,
    BROKER_NAMESPACE,
    {
      name: 'dns-listen',
      kind: 'string',
      arg: 'HOST:PORT',
      description:
        'serve the in-cluster egress DNS there (<workload>.<namespace>.<cluster>.egress.clusterset.local and the egress IPs\' PTRs; every replica); needs --cluster-id; "off" disables',
      default: 'off',
      config: 'command',
      ...LISTEN,
    },
    {
      name: 'metrics-address',
      kind: 'string',
      arg: 'HOST:PORT',
      description:
        'Prometheus /metrics listen address (every replica): reconcile errors per loop and phase, /v1/egress-map answers by status, waiting long-polls, certificate expiry and reload failures, moor_ha_leader; in a pod give the pod address, e.g. 0.0.0.0:9478 (off by default: replicas may share a host); "off" disables',
      default: 'off',
      config: 'command',
      ...LISTEN,
    },
  ],
};
