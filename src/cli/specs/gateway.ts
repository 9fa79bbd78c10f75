// `moor gateway`.
import type { CommandSpec, OptionSpec } from '../spec/types.ts';
import { CHECK_BROKER_CERTIFICATE, PORT, RESYNC, WIREGUARD_DRIVER } from './shared.ts';

export const DEFAULT_GATEWAY_STATE_DIR = '/var/lib/moor-gateway';
export const DEFAULT_GATEWAY_METRICS_ADDRESS = '127.0.0.1:9477';

const seconds = (name: string, description: string, def: number): OptionSpec => ({
  name,
  kind: 'int',
  arg: 'SECONDS',
  min: 1,
  max: 3600,
  description,
  default: def,
  config: 'command',
});

export const GATEWAY_SPEC: CommandSpec = {
  name: 'gateway',
  summary: 'run the cluster end of the cables (gateway nodes)',
  description: [
    "Run a Submariner-compatible WireGuard gateway for a cluster that does not run Submariner. Run it on every gateway node; a Lease in the cluster elects the active one. The active gateway publishes the cluster's Cluster and Endpoint on the broker (fresh key per start), terminates cables from every member and routes their subnets, and holds --vip, the address the cluster's nodes route remote subnets to.",
    '--broker-info, --clusterid and --cluster-cidr are required.',
  ],
  positionals: [],
  options: [
    {
      name: 'broker-info',
      kind: 'string',
      arg: 'FILE',
      description: 'broker-info.subm whose token may write Clusters/Endpoints (a member token)',
      config: 'command',
      complete: 'file',
    },
    { name: 'clusterid', kind: 'string', arg: 'ID', description: "this cluster's ID", config: 'command' },
    {
      name: 'cluster-cidr',
      kind: 'list',
      arg: 'CIDR',
      description: 'pod CIDR (repeatable)',
      config: 'command',
    },
    {
      name: 'service-cidr',
      kind: 'list',
      arg: 'CIDR',
      description: 'service CIDR (repeatable)',
      config: 'command',
    },
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
      name: 'private-ip',
      kind: 'string',
      arg: 'IP',
      description: 'address other gateways reach this node at',
      defaultText: 'source of the default route',
    },
    {
      name: 'public-ip',
      kind: 'string',
      arg: 'IP',
      description: 'address other gateways reach this node at when it is behind NAT',
    },
    { ...PORT, config: 'command' },
    {
      name: 'health-check-ip',
      kind: 'string',
      arg: 'IP',
      description: 'address remote gateways ping',
      defaultText: "this node's address inside a cluster CIDR",
    },
    {
      name: 'vip',
      kind: 'string',
      arg: 'CIDR',
      description: 'floating address of the active gateway, e.g. 10.99.10.10/24',
      config: 'command',
    },
    {
      name: 'vip-interface',
      kind: 'string',
      arg: 'DEV',
      description: 'device that carries --vip',
      config: 'command',
    },
    {
      name: 'interface',
      kind: 'string',
      arg: 'NAME',
      description: 'WireGuard interface',
      default: 'submariner',
      config: 'command',
    },
    {
      name: 'hostname',
      kind: 'string',
      arg: 'NAME',
      description: 'host name in the Endpoint',
      defaultText: "this host's name",
    },
    {
      name: 'lease-namespace',
      kind: 'string',
      arg: 'NS',
      description: 'namespace of the leader Lease',
      default: 'moor-system',
      config: 'command',
    },
    {
      name: 'lease-name',
      kind: 'string',
      arg: 'NAME',
      description: 'Lease name',
      default: 'moor-gateway-lock',
      config: 'command',
    },
    seconds('lease-duration', 'leader Lease duration', 15),
    seconds('renew-deadline', 'how long the leader retries renewing before it steps down', 10),
    seconds('retry-period', 'how often candidates try to take the Lease', 2),
    {
      name: 'identity',
      kind: 'string',
      arg: 'NAME',
      description: 'leader-election identity',
      defaultText: '<hostname>-moor-gateway',
    },
    {
      name: 'state-dir',
      kind: 'string',
      arg: 'DIR',
      description: 'status and logs',
      default: DEFAULT_GATEWAY_STATE_DIR,
      config: 'command',
      complete: 'dir',
    },
    { ...WIREGUARD_DRIVER, config: 'command' },
    { ...RESYNC, config: 'command' },
    { ...CHECK_BROKER_CERTIFICATE, config: 'command' },
    {
      name: 'metrics-address',
      kind: 'string',
      arg: 'HOST:PORT',
      description:
        'Prometheus /metrics listen address; "off" disables; a passive gateway reports moor_gateway_active 0 and nothing else',
      default: DEFAULT_GATEWAY_METRICS_ADDRESS,
      config: 'command',
    },
  ],
};
