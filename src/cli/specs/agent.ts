// `moor agent`.
import type { CommandSpec } from '../spec/types.ts';
import { LISTEN, RESYNC, STATE_DIR, UPSTREAM, WIREGUARD_DRIVER } from './shared.ts';

export const DEFAULT_METRICS_ADDRESS = '127.0.0.1:9476';

export const AGENT_SPEC: CommandSpec = {
  name: 'agent',
  summary: 'run the host agent in the foreground',
  description: [
    "Run the host agent in the foreground: keep this host's registration on the broker, one WireGuard peer and the routes per clusterset member, and health checks. Stopping it leaves the tunnels up; `moor leave` removes them.",
  ],
  positionals: [],
  options: [
    { ...STATE_DIR, description: 'state written by `moor join`' },
    { ...RESYNC, config: 'command' },
    { ...WIREGUARD_DRIVER, config: 'command' },
    {
      name: 'metrics-address',
      kind: 'string',
      arg: 'HOST:PORT',
      description: 'Prometheus /metrics listen address; "off" disables',
      default: DEFAULT_METRICS_ADDRESS,
      config: 'command',
      ...LISTEN,
    },
    {
      name: 'dns-listen',
      kind: 'string',
      arg: 'HOST:PORT',
      description: 'clusterset DNS server listen address; "off" disables',
      defaultText: '<clusterset address>:53',
      config: 'command',
      ...LISTEN,
    },
    {
      name: 'dns-forward',
      kind: 'list',
      arg: 'IP[:PORT]',
      description: 'forward names outside the clusterset zones there (repeatable)',
      defaultText: 'answer them REFUSED',
      config: 'command',
      ...UPSTREAM,
    },
  ],
};
