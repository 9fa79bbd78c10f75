// Every command's spec, in the order `moor --help` lists them. The command table
// (../commands.ts) pairs each with its implementation; scripts/gen-docs.ts generates completion,
// the man page and the default config file from this list alone.
import type { CommandSpec } from '../spec/types.ts';
import { AGENT_SPEC } from './agent.ts';
import { CONFIG_SPEC } from './config.ts';
import { CONTROLLER_SPEC } from './controller.ts';
import { DIAGNOSE_SPEC } from './diagnose.ts';
import { EGRESS_SPEC } from './egress.ts';
import { EGRESS_GATEWAY_SPEC, NODE_AGENT_SPEC } from './egress-daemons.ts';
import { EXPORT_SPEC, UNEXPORT_SPEC } from './export.ts';
import { GATEWAY_SPEC } from './gateway.ts';
import { JOIN_SPEC, LEAVE_SPEC } from './join.ts';
import { SHOW_SPEC, STATUS_SPEC } from './status.ts';

export const VERSION_SPEC: CommandSpec = {
  name: 'version',
  summary: 'print the moor version, commit and Node.js version (also moor --version)',
  description: ['Print the moor version, the commit it was built from and the Node.js version it runs on.'],
  positionals: [],
  options: [],
};

export const COMMAND_SPECS: readonly CommandSpec[] = [
  JOIN_SPEC,
  LEAVE_SPEC,
  AGENT_SPEC,
  GATEWAY_SPEC,
  CONTROLLER_SPEC,
  NODE_AGENT_SPEC,
  EGRESS_GATEWAY_SPEC,
  EGRESS_SPEC,
  STATUS_SPEC,
  EXPORT_SPEC,
  UNEXPORT_SPEC,
  SHOW_SPEC,
  CONFIG_SPEC,
  DIAGNOSE_SPEC,
  VERSION_SPEC,
];
