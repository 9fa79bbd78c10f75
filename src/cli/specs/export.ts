// `moor export service` and `moor unexport service`.
import type { CommandSpec, OptionSpec, PositionalSpec } from '../spec/types.ts';
import { STATE_DIR } from './shared.ts';

const SERVICE_ARGS: PositionalSpec[] = [
  { name: 'service', description: 'what to export (only services can be)', values: ['service'] },
  { name: 'NAME', description: 'the service name', complete: 'none' },
];

const NAMESPACE: OptionSpec = {
  name: 'namespace',
  short: 'n',
  kind: 'string',
  arg: 'NS',
  description: 'namespace the service appears in (must not be kube-*/openshift*); required',
};

export const EXPORT_SPEC: CommandSpec = {
  name: 'export',
  summary: "export one of this host's services to the clusterset",
  description: [
    "Export a service running on this host to the clusterset, as a Lighthouse agent exports a Kubernetes service: pods in every cluster then reach it as NAME.NS.svc.clusterset.local at this host's clusterset address. The export is kept in the state directory; the agent re-asserts it and publishes its readiness, checked locally every 5 s. Running it again updates the export.",
  ],
  positionals: SERVICE_ARGS,
  options: [
    NAMESPACE,
    {
      name: 'port',
      kind: 'list',
      arg: '[NAME:]PORT[/PROTO]',
      description:
        'a service port, protocol TCP (default), UDP or SCTP; repeatable, and every port needs a NAME when there are several',
    },
    {
      name: 'health',
      kind: 'string',
      arg: 'tcp|tcp:PORT|none',
      description:
        'readiness: a TCP connect to 127.0.0.1 on the first TCP port (the default), on PORT, or none (always ready)',
    },
    {
      name: 'per-host-names',
      kind: 'boolean',
      description:
        "export as a headless service with this host's name, so it also answers as <host>.<cluster>.NAME.NS.svc.clusterset.local",
    },
    STATE_DIR,
  ],
};

export const UNEXPORT_SPEC: CommandSpec = {
  name: 'unexport',
  summary: 'withdraw an export of this host',
  description: [
    "Withdraw this host's export of NAME.NS: delete its EndpointSlice from the broker, remove this cluster from the aggregated ServiceImport (deleting it when no other cluster exports the service), and forget the export. Running it again is harmless.",
  ],
  positionals: SERVICE_ARGS,
  options: [NAMESPACE, STATE_DIR],
};
