// `moor controller`.
import { clusterIdProblem } from '../../broker/names.ts';
import type { CommandSpec } from '../spec/types.ts';
import { EGRESS_MAP_OPTIONS } from './egress-map.ts';
import { LISTEN, RESYNC } from './shared.ts';

export const CONTROLLER_SPEC: CommandSpec = {
  name: 'controller',
  summary: 'run the egress controller (IP allocation, pod resolution, status)',
  description: [
    "Allocate static egress IPs from each EgressGateway's pool to the EgressPolicies that use it, resolve every pod to at most one policy (highest priority, then the policy name that sorts first), and write allocations, selected pod counts and conditions to the objects' status, with Events for bad input. Allocations are sticky: they are re-derived from status after a restart or failover.",
    'Run it as a Deployment; replicas elect a leader on a Lease. See docs/egress.md.',
    'With --dns-listen every replica, standbys too, answers the egress names and the egress IPs\' PTRs from the mapping objects (docs/egress-acl.md, "In-cluster DNS").',
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
    { ...RESYNC, config: 'command' },
    ...EGRESS_MAP_OPTIONS,
    {
      name: 'cluster-id',
      kind: 'string',
      arg: 'ID',
      description: "this cluster's Submariner cluster ID (the <cluster> label of egress DNS names)",
      config: 'command',
      validate: (v) => clusterIdProblem(v) === undefined,
      allowed: 'a DNS-1123 label like cluster-a',
    },
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
  ],
};
