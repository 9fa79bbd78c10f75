// The `/v1/egress-map` options of `moor controller` (docs/egress-acl.md, "HTTP endpoint").
import type { OptionSpec } from '../spec/types.ts';
import { LISTEN } from './shared.ts';

export const EGRESS_MAP_OPTIONS: OptionSpec[] = [
  {
    name: 'egress-map-listen',
    kind: 'string',
    arg: 'HOST:PORT',
    description:
      'serve the read-only ACL mapping at /v1/egress-map (every replica, standby too); plain HTTP only on a loopback address, anything else needs --egress-map-tls-cert/--egress-map-tls-key; "off" disables',
    default: 'off',
    config: 'command',
    ...LISTEN,
  },
  {
    name: 'egress-map-tls-cert',
    kind: 'string',
    arg: 'FILE',
    description:
      'PEM certificate (chain) for /v1/egress-map over HTTPS; re-read every --egress-map-tls-reload seconds, a rotated pair serves new connections (a bad one keeps the old)',
    config: 'command',
    complete: 'file',
  },
  {
    name: 'egress-map-tls-key',
    kind: 'string',
    arg: 'FILE',
    description: 'PEM private key of --egress-map-tls-cert',
    config: 'command',
    complete: 'file',
  },
  {
    name: 'egress-map-tls-reload',
    kind: 'int',
    arg: 'SECONDS',
    min: 1,
    max: 3600,
    description:
      'how often the certificate and key files are read for a rotation (cert-manager, a Secret volume)',
    default: 10,
    config: 'command',
  },
];
