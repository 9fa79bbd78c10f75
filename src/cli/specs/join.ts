// `moor join` and `moor leave`.
import { DEFAULT_ADDRESS_POOL, DEFAULT_INTERFACE } from '../../agent/state.ts';
import type { CommandSpec } from '../spec/types.ts';
import { BROKER_URL, CHECK_BROKER_CERTIFICATE, CIDR, PORT, STATE_DIR } from './shared.ts';

export const JOIN_SPEC: CommandSpec = {
  name: 'join',
  summary: 'join this host to a clusterset (broker-info.subm)',
  description: [
    'Make this host a member of the Submariner clusterset described by BROKER-INFO (the broker-info.subm written by `subctl deploy-broker`). The host gets its own clusterset address(es), registers as a cluster on the broker, and the agent builds WireGuard cables to every gateway. The broker admin token in the file is used only during join; the host keeps a member credential (ServiceAccount cluster-<id>) in its state directory (0600).',
    'Addresses must be unicast: loopback, 0.0.0.0/8, link-local, multicast, broadcast and IETF protocol addresses are refused before anything is created.',
  ],
  positionals: [{ name: 'BROKER-INFO', description: 'the broker-info.subm file', complete: 'file' }],
  options: [
    {
      name: 'clusterid',
      kind: 'string',
      arg: 'ID',
      description: 'cluster ID of this host (DNS-1123 label)',
      defaultText: 'from the host name',
    },
    {
      name: 'address',
      kind: 'list',
      arg: 'IP',
      description: 'clusterset address of this host (repeatable)',
      defaultText: 'allocate one',
    },
    {
      name: 'pool',
      kind: 'string',
      arg: 'CIDR',
      description: 'pool to allocate from when no --address is given',
      default: DEFAULT_ADDRESS_POOL,
      config: 'command',
      ...CIDR,
    },
    {
      name: 'private-ip',
      kind: 'string',
      arg: 'IP',
      description: 'underlay address gateways reach this host at',
      defaultText: 'source of the default route',
    },
    {
      name: 'public-ip',
      kind: 'string',
      arg: 'IP',
      description: 'address gateways reach this host at when it is behind NAT',
    },
    { ...PORT, config: 'command' },
    {
      name: 'interface',
      kind: 'string',
      arg: 'NAME',
      description: 'WireGuard interface name',
      default: DEFAULT_INTERFACE,
      config: 'command',
    },
    {
      name: 'hostname',
      kind: 'string',
      arg: 'NAME',
      description: 'host name published in the Endpoint',
      defaultText: "this host's name",
    },
    { ...BROKER_URL, config: 'command' },
    { ...CHECK_BROKER_CERTIFICATE, config: 'command' },
    STATE_DIR,
    { name: 'no-start', kind: 'boolean', description: 'do not start the agent service' },
  ],
};

export const LEAVE_SPEC: CommandSpec = {
  name: 'leave',
  summary: 'undo join: tunnels, routes, broker objects, state',
  description: [
    "Undo everything join created: stop the agent, remove the WireGuard interface with its addresses and routes, withdraw this host's Cluster and Endpoint from the broker, and delete the state directory. With BROKER-INFO (the admin credential) it also deletes the member ServiceAccount, its RoleBinding and token Secret, and the address claims. Running it again is harmless.",
  ],
  positionals: [
    {
      name: 'BROKER-INFO',
      description: 'the broker-info.subm file (admin credential)',
      optional: true,
      complete: 'file',
    },
  ],
  options: [
    {
      name: 'clusterid',
      kind: 'string',
      arg: 'ID',
      description: 'clean up the broker for this cluster ID when this host has no state',
    },
    { ...BROKER_URL, config: 'command' },
    { ...CHECK_BROKER_CERTIFICATE, config: 'command' },
    STATE_DIR,
  ],
};
