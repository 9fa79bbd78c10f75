// `moor node-agent` and `moor egress-gateway`.
import type { CommandSpec, OptionSpec } from '../spec/types.ts';
import { RESYNC } from './shared.ts';

const KUBECONFIG: OptionSpec = {
  name: 'kubeconfig',
  kind: 'string',
  arg: 'FILE',
  description: "credentials for this cluster's API",
  defaultText: 'in-cluster service account',
  config: 'command',
  complete: 'file',
};

const NODE_NAME: OptionSpec = {
  name: 'node-name',
  kind: 'string',
  arg: 'NAME',
  description: "this Node's name (the Downward API gives it as spec.nodeName)",
  env: 'NODE_NAME',
  config: 'command',
};

export const NODE_AGENT_SPEC: CommandSpec = {
  name: 'node-agent',
  summary: "steer this node's selected pods to their egress gateway (DaemonSet)",
  description: [
    "Steer the egress traffic of this node's pods that an EgressPolicy selects into a VXLAN to their gateway group's floating IP, by an nft mark and policy routing, using nothing of the CNI's internals. Traffic that cannot be steered is dropped on the node (failurePolicy Closed), also while the agent is down and for a pod the agent has not seen yet. See docs/egress.md.",
    '--node-name, --underlay-interface and --cluster-cidr are required.',
  ],
  positionals: [],
  options: [
    KUBECONFIG,
    NODE_NAME,
    {
      name: 'underlay-interface',
      kind: 'string',
      arg: 'DEV',
      description: 'the LAN device the VXLAN devices are bound to',
      config: 'command',
    },
    {
      name: 'cluster-cidr',
      kind: 'list',
      arg: 'CIDR',
      description: 'pod and service CIDRs: cluster-internal, never steered (repeatable)',
      config: 'command',
    },
    {
      name: 'pod-cidr',
      kind: 'list',
      arg: 'CIDR',
      description: "this node's pod CIDR(s), for the guard that holds back pods not seen yet",
      defaultText: "the Node's spec.podCIDRs",
      config: 'command',
    },
    { ...RESYNC, config: 'command' },
  ],
};

export const EGRESS_GATEWAY_SPEC: CommandSpec = {
  name: 'egress-gateway',
  summary: 'hold the static egress IPs of the groups this node belongs to (DaemonSet)',
  description: [
    "Program the SNAT map (pod IP to egress IP), the guards and the VXLAN device of every EgressGateway whose nodeSelector selects this node, on active and standby nodes alike; the node that holds a group's Lease also holds its floating IP and egress IPs and announces them with gratuitous ARP. See docs/egress.md.",
    '--node-name is required.',
  ],
  positionals: [],
  options: [
    KUBECONFIG,
    NODE_NAME,
    {
      name: 'lease-namespace',
      kind: 'string',
      arg: 'NS',
      description: "namespace of the groups' Leases",
      default: 'moor-egress',
      config: 'command',
    },
    {
      name: 'identity',
      kind: 'string',
      arg: 'NAME',
      description: 'lease identity',
      defaultText: 'the node name',
    },
    {
      name: 'lease-duration-ms',
      kind: 'int',
      arg: 'MS',
      min: 1000,
      max: 300_000,
      description:
        "how long a group's Lease lasts without renewal: without heartbeats, what a standby waits after the active node dies (renewals every 200 ms; the holder steps down after 600 ms without one)",
      default: 15_000,
      config: 'command',
    },
    {
      name: 'heartbeat-key-file',
      kind: 'string',
      arg: 'FILE',
      description:
        "a secret shared by the group's gateways (at least 16 bytes): heartbeats every 100 ms let a standby take over within about 0.5 s instead of the lease duration",
      config: 'command',
      complete: 'file',
    },
    {
      name: 'heartbeat-port',
      kind: 'int',
      arg: 'PORT',
      min: 1,
      max: 65535,
      description: 'UDP port of the heartbeats (sent to the subnet broadcast address)',
      default: 4791,
      config: 'command',
    },
    { ...RESYNC, config: 'command' },
  ],
};
