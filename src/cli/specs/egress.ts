// `moor egress status` and `moor egress show POLICY`.
import type { CommandSpec, OptionSpec } from '../spec/types.ts';

const OPTIONS: OptionSpec[] = [
  {
    name: 'kubeconfig',
    kind: 'string',
    arg: 'FILE',
    description: "credentials for the cluster's API",
    defaultText: '$KUBECONFIG, else ~/.kube/config',
    env: 'KUBECONFIG',
    complete: 'file',
  },
  {
    name: 'output',
    short: 'o',
    kind: 'enum',
    values: ['table', 'json', 'yaml'],
    description: 'output format',
    default: 'table',
  },
];

export const EGRESS_STATUS_SPEC: CommandSpec = {
  name: 'status',
  summary: 'every egress gateway and policy: IPs, active node, pods, problems',
  description: [
    'One line per EgressGateway and per EgressPolicy, from their status (written by moor controller and the active gateway).',
  ],
  positionals: [],
  options: OPTIONS,
};

export const EGRESS_SHOW_SPEC: CommandSpec = {
  name: 'show',
  summary: 'one policy in detail, with every selected pod and the IP it leaves from',
  description: [
    'A policy in detail: its gateway, destinations, egress IPs, active node and conditions, and each selected pod with its node, pod IP and egress IP (resolved exactly as the node agents do).',
  ],
  positionals: [{ name: 'POLICY', description: 'the EgressPolicy name' }],
  options: OPTIONS,
};

export const EGRESS_SPEC: CommandSpec = {
  name: 'egress',
  summary: 'show static egress gateways, policies and their pods',
  description: ['Read the cluster API with a kubeconfig, kubectl-style.'],
  positionals: [],
  options: OPTIONS,
  subcommands: [EGRESS_STATUS_SPEC, EGRESS_SHOW_SPEC],
};
