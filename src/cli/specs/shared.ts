// Options several commands share, so that they are described once.
import { DEFAULT_STATE_DIR } from '../../agent/state.ts';
import { parseUpstream } from '../../dns/forwarder.ts';
import { parseCidr } from '../../net/ipv4.ts';
import { parseListenAddress } from '../../observability/metricsServer.ts';
import { accepts, type OptionSpec } from '../spec/types.ts';

/** Checks of values the config file may give, with the words that say what is allowed. */
export const CIDR = {
  validate: accepts((v) => parseCidr(v)),
  allowed: 'an IPv4 CIDR like 10.42.0.0/16',
} as const;
export const LISTEN = {
  validate: (v: string) => v === 'off' || accepts((x) => parseListenAddress(x))(v),
  allowed: 'HOST:PORT like 127.0.0.1:9476, or "off"',
} as const;
export const UPSTREAM = {
  validate: accepts(parseUpstream),
  allowed: 'an IPv4 address with an optional :PORT, like 10.0.0.53 or 10.0.0.53:5353',
} as const;

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
