// `moor controller`.
import type { CommandSpec } from '../spec/types.ts';
import { ACL_HISTORY_RETENTION } from './acl.ts';
import { RESYNC } from './shared.ts';

export const CONTROLLER_SPEC: CommandSpec = {
  name: 'controller',
  summary: 'run the egress controller (IP allocation, pod resolution, status)',
  description: [
    "Allocate static egress IPs from each EgressGateway's pool to the EgressPolicies that use it, resolve every pod to at most one policy (highest priority, then the policy name that sorts first), and write allocations, selected pod counts and conditions to the objects' status, with Events for bad input. Allocations are sticky: they are re-derived from status after a restart or failover.",
    'It also writes the ACL mapping: EgressMapSlices (which workload leaves from which egress IP, per pod) and one EgressIPHistory per IP (who held it, from when to when), and a summary on each policy as status.mapping. See docs/egress-acl.md.',
    'Run it as a Deployment; replicas elect a leader on a Lease. See docs/egress.md.',
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
  ],
};
