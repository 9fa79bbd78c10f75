// Options several commands share, so that they are described once.
import { DEFAULT_STATE_DIR } from '../../agent/state.ts';
import type { OptionSpec } from '../spec/types.ts';

export const STATE_DIR: OptionSpec = {
  name: 'state-dir',
  kind: 'string',
  arg: 'DIR',
  description: 'where moor keeps its state',
  default: DEFAULT_STATE_DIR,
  env: 'MOOR_STATE_DIR',
  config: 'global',
  complete: 'dir',
};

export const OUTPUT: OptionSpec = {
  name: 'output',
  short: 'o',
  kind: 'enum',
  values: ['table', 'json'],
  description: 'output format',
  default: 'table',
};

export const CHECK_BROKER_CERTIFICATE: OptionSpec = {
  name: 'check-broker-certificate',
  kind: 'bool-string',
  description: "verify the broker's TLS certificate",
  default: true,
};

export const BROKER_URL: OptionSpec = {
  name: 'broker-url',
  kind: 'string',
  arg: 'URL',
  description: 'override the broker URL in the file',
};

export const WIREGUARD_DRIVER: OptionSpec = {
  name: 'wireguard-driver',
  kind: 'enum',
  values: ['kernel', 'wireguard-go'],
  description: 'WireGuard implementation',
  defaultText: 'kernel when available',
};

export const RESYNC: OptionSpec = {
  name: 'resync',
  kind: 'int',
  arg: 'SECONDS',
  min: 1,
  max: 3600,
  description: 'full reconcile period',
  default: 30,
};

export const PORT: OptionSpec = {
  name: 'port',
  kind: 'int',
  min: 1,
  max: 65535,
  description: 'WireGuard UDP port',
  default: 4500,
};
