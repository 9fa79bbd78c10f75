// `moor status` and `moor show connections|exports|services`.
import type { CommandSpec } from '../spec/types.ts';
import { OUTPUT, STATE_DIR } from './shared.ts';

export const STATUS_SPEC: CommandSpec = {
  name: 'status',
  summary: "show this host's membership and health",
  description: [
    "Summary of this host's membership: cluster ID, addresses, WireGuard interface, broker watch, registration, connections by state, and broker objects that were rejected (and why).",
  ],
  positionals: [],
  options: [OUTPUT, STATE_DIR],
};

const SHOW_OPTIONS = [OUTPUT, STATE_DIR];

export const SHOW_CONNECTIONS_SPEC: CommandSpec = {
  name: 'connections',
  summary: 'one line per clusterset member',
  description: [
    'One line per clusterset member: status (connected, connecting, error), its endpoint, the last WireGuard handshake, the health-check RTT, and its subnets.',
    'error means no handshake for 130 s, or 3 health-check pings lost in a row; DNS answers only with connected members.',
  ],
  positionals: [],
  options: SHOW_OPTIONS,
};

export const SHOW_EXPORTS_SPEC: CommandSpec = {
  name: 'exports',
  summary: "this host's exported services and whether the broker has them ready",
  description: [
    "The services this host exports (from its state directory) with what the broker holds: whether the ServiceImport lists this cluster and whether this host's endpoint is published as ready.",
  ],
  positionals: [],
  options: SHOW_OPTIONS,
};

export const SHOW_SERVICES_SPEC: CommandSpec = {
  name: 'services',
  summary: 'what the clusterset exports, from which members, and whether each is reachable',
  description: [
    "Every service the clusterset exports, from the broker: type, ports, and per exporting cluster its address, whether it is ready, and whether this host reaches that cluster (its cable is connected, as reported by the agent; this host's own cluster always is).",
  ],
  positionals: [],
  options: SHOW_OPTIONS,
};

export const SHOW_SPEC: CommandSpec = {
  name: 'show',
  summary: 'show connections, exports or clusterset services',
  description: ['Show one subject in detail, as a table or as JSON.'],
  positionals: [],
  options: SHOW_OPTIONS,
  subcommands: [SHOW_CONNECTIONS_SPEC, SHOW_EXPORTS_SPEC, SHOW_SERVICES_SPEC],
};
