// `moor export service`, `moor unexport service`, `moor show exports`, `moor show services`:
// the host's own services in the clusterset. The store (<state-dir>/exports.json) says what is
// wanted; these commands change it and publish at once, and the agent keeps the broker in step.
import { type HostState, loadState, stateDir } from '../agent/state.ts';
import { serviceImportName } from '../broker/lighthouse.ts';
import { parsePortSpec, unixNanos } from '../broker/lighthouseInput.ts';
import { readStatus } from '../cables/status.ts';
import { MoorError } from '../errors.ts';
import { memberClient } from '../exports/brokerApi.ts';
import { checkExportHealth } from '../exports/health.ts';
import { ExportPublisher, publisherIdentity } from '../exports/publisher.ts';
import {
  checkedExport,
  type ExportHealth,
  findExport,
  healthPort,
  loadExports,
  removeExport,
  type StoredExport,
  upsertExport,
} from '../exports/store.ts';
import { connectionsOf, exportsReport, formatPorts, servicesReport } from '../exports/view.ts';
import { boolOption, enumOption, type Parsed, parseCommand, stringOption } from './args.ts';
import { renderHelp } from './spec/help.ts';
import type { CommandSpec } from './spec/types.ts';
import { EXPORT_SPEC, UNEXPORT_SPEC } from './specs/export.ts';
import { SHOW_EXPORTS_SPEC, SHOW_SERVICES_SPEC } from './specs/status.ts';
import { renderTable } from './table.ts';

const log = (line: string) => process.stderr.write(`${line}\n`);

function serviceArgs(spec: CommandSpec, args: string[]) {
  const command = spec.name;
  const parsed = parseCommand(spec, args);
  const [kind, name] = parsed.positionals;
  const usage = `moor ${command} service NAME --namespace NS`;
  if (boolOption(parsed, 'help')) return { parsed, help: true as const };
  if (kind !== 'service') {
    throw new MoorError(
      'invalid-argument',
      `${command}: ${kind === undefined ? 'say what to export' : `cannot ${command} "${kind}"`}`,
      {
        hint: `only services can be exported: ${usage}`,
      },
    );
  }
  const namespace = stringOption(parsed, 'namespace');
  if (name === undefined || namespace === undefined) {
    throw new MoorError(
      'invalid-argument',
      `${command}: the service ${name === undefined ? 'name' : 'namespace'} is missing`,
      {
        hint: usage,
      },
    );
  }
  return { parsed, help: false as const, name, namespace, dir: stateDir(stringOption(parsed, 'state-dir')) };
}

export async function runExport(args: string[]): Promise<number> {
  const a = serviceArgs(EXPORT_SPEC, args);
  if (a.help) {
    process.stdout.write(renderHelp(['export'], EXPORT_SPEC));
    return 0;
  }
  const perHostNames = boolOption(a.parsed, 'per-host-names');
  const ports = portValues(a.parsed).map(parsePortSpec);
  if (ports.length === 0 && !perHostNames) {
    throw new MoorError('invalid-argument', 'export: no --port given', {
      hint: 'give the service port(s), like --port 5432/TCP',
    });
  }
  const state = loadState(a.dir); // "not joined" before anything else is read
  const existing = findExport(loadExports(a.dir), a.name, a.namespace);
  const exp = checkedExport({
    name: a.name,
    namespace: a.namespace,
    ports,
    health: parseHealth(
      stringOption(a.parsed, 'health'),
      ports.some((p) => p.protocol === 'TCP'),
    ),
    perHostNames,
    // The first export's time stays: it orders exporters (oldest wins) across every cluster.
    exportedAt: existing?.exportedAt ?? unixNanos(new Date()),
  } satisfies StoredExport);
  const ready = await checkExportHealth(exp);
  const client = memberClient(state);
  const previous = upsertExport(a.dir, exp);
  try {
    const publisher = newPublisher(state, client, a.dir);
    const outcome = await publisher.publish(exp, { ready });
    printExported(state, exp, ready, outcome.serviceImport, outcome.endpointSlice);
    return 0;
  } catch (err) {
    // The store must not claim an export the broker does not have.
    if (previous === undefined) removeExport(a.dir, exp.name, exp.namespace);
    else upsertExport(a.dir, previous);
    throw err;
  } finally {
    client.close();
  }
}

export async function runUnexport(args: string[]): Promise<number> {
  const a = serviceArgs(UNEXPORT_SPEC, args);
  if (a.help) {
    process.stdout.write(renderHelp(['unexport'], UNEXPORT_SPEC));
    return 0;
  }
  const state = loadState(a.dir);
  const client = memberClient(state);
  // Out of the store first: a running agent re-publishes whatever the store holds, so withdrawing
  // before removing could race with its resync and bring the export back.
  const stored = removeExport(a.dir, a.name, a.namespace);
  try {
    let outcome: Awaited<ReturnType<ExportPublisher['withdraw']>>;
    try {
      outcome = await newPublisher(state, client, a.dir).withdraw(a.name, a.namespace);
    } catch (err) {
      if (stored) upsertExport(a.dir, stored); // still exported: keep it listed
      throw err;
    }
    const si = serviceImportName(a.name, a.namespace);
    const lines = [
      `unexported ${a.namespace}/${a.name}${stored === undefined ? ' (it was not in the store)' : ''}`,
    ];
    for (const s of outcome.deletedSlices) lines.push(`  deleted EndpointSlice ${s}`);
    const siText = {
      absent: `no ServiceImport ${si} on the broker`,
      unchanged: `ServiceImport ${si} did not list this cluster`,
      updated: `removed this cluster from ServiceImport ${si}; other clusters still export it`,
      deleted: `deleted ServiceImport ${si}: no cluster exports it any more`,
    }[outcome.serviceImport];
    lines.push(`  ${siText}`);
    process.stdout.write(`${lines.join('\n')}\n`);
    return 0;
  } finally {
    client.close();
  }
}

function newPublisher(
  state: HostState,
  client: ReturnType<typeof memberClient>,
  dir: string,
): ExportPublisher {
  return new ExportPublisher({
    api: client,
    identity: publisherIdentity(state),
    loadExports: () => loadExports(dir),
    log,
  });
}

function portValues(parsed: Parsed): string[] {
  const v = parsed.values.port;
  return Array.isArray(v) ? v : typeof v === 'string' ? [v] : [];
}

export function parseHealth(text: string | undefined, hasTcpPort: boolean): ExportHealth {
  if (text === undefined) return hasTcpPort ? { type: 'tcp' } : { type: 'none' };
  if (text === 'none') return { type: 'none' };
  if (text === 'tcp') return { type: 'tcp' };
  const match = /^tcp:([0-9]{1,5})$/.exec(text);
  const port = Number(match?.[1]);
  if (match === null || port < 1 || port > 65535) {
    throw new MoorError('invalid-argument', `--health ${text} is not understood`, {
      hint: 'use --health tcp (first TCP port), --health tcp:PORT, or --health none',
    });
  }
  return { type: 'tcp', port };
}

function printExported(state: HostState, exp: StoredExport, ready: boolean, si: string, slice: string): void {
  const dns = `${exp.name}.${exp.namespace}.svc.clusterset.local`;
  const port = healthPort(exp);
  const identity = publisherIdentity(state);
  const lines = [
    `exported ${exp.namespace}/${exp.name} from cluster ${state.clusterId} as ${exp.perHostNames ? 'Headless' : 'ClusterSetIP'}`,
    `  name:     ${dns}`,
    ...(exp.perHostNames ? [`  host:     ${identity.hostLabel}.${state.clusterId}.${dns}`] : []),
    `  address:  ${identity.address}`,
    `  ports:    ${formatPorts(exp.ports) || '-'}`,
    `  health:   ${port === undefined ? 'none (always ready)' : `tcp 127.0.0.1:${port}: ${ready ? 'ready' : 'NOT ready (nothing accepts connections)'}`}`,
    `  broker:   ServiceImport ${serviceImportName(exp.name, exp.namespace)} ${si}, EndpointSlice ${slice}`,
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
}

function showArgs(spec: CommandSpec, args: string[]) {
  const parsed = parseCommand(spec, args, { path: ['show', spec.name], consumedPositionals: 1 });
  const output = enumOption(parsed, 'output') ?? 'table';
  return { help: boolOption(parsed, 'help'), output, dir: stateDir(stringOption(parsed, 'state-dir')) };
}

/** `moor show exports`; `args` as `moor show` got them (the subject word may be included). */
export async function runShowExports(args: string[]): Promise<number> {
  const { help, output, dir } = showArgs(SHOW_EXPORTS_SPEC, args);
  if (help) {
    process.stdout.write(renderHelp(['show', 'exports'], SHOW_EXPORTS_SPEC));
    return 0;
  }
  const state = loadState(dir);
  const client = memberClient(state);
  let report: Awaited<ReturnType<typeof exportsReport>>;
  try {
    report = await exportsReport(client, state, loadExports(dir));
  } finally {
    client.close();
  }
  if (report.brokerError !== null)
    log(`moor: the broker could not be asked, showing the store only: ${report.brokerError}`);
  if (output === 'json') {
    process.stdout.write(`${JSON.stringify(report.reports, null, 2)}\n`);
    return 0;
  }
  const yesNo = (v: boolean | null | undefined) => (v === true ? 'yes' : v === false ? 'no' : '-');
  const rows = report.reports.map((r) => [
    r.name,
    r.namespace,
    r.type,
    r.ports || '-',
    r.health,
    r.broker === null ? '?' : yesNo(r.broker.listed),
    r.broker === null ? '?' : yesNo(r.broker.ready),
  ]);
  process.stdout.write(
    renderTable(['SERVICE', 'NAMESPACE', 'TYPE', 'PORTS', 'HEALTH', 'LISTED', 'READY'], rows),
  );
  return 0;
}

/** `moor show services`; `args` as `moor show` got them (the subject word may be included). */
export async function runShowServices(args: string[]): Promise<number> {
  const { help, output, dir } = showArgs(SHOW_SERVICES_SPEC, args);
  if (help) {
    process.stdout.write(renderHelp(['show', 'services'], SHOW_SERVICES_SPEC));
    return 0;
  }
  const state = loadState(dir);
  const status = readStatus(dir);
  const client = memberClient(state);
  let services: Awaited<ReturnType<typeof servicesReport>>;
  try {
    services = await servicesReport(client, state, status, Date.now());
  } finally {
    client.close();
  }
  if (connectionsOf(status, Date.now()) === undefined)
    log('moor: the agent is not reporting, so reachability of other clusters is unknown (?)');
  if (output === 'json') {
    // Unknown stays visible as null instead of vanishing from the JSON.
    const json = services.map((s) => ({
      ...s,
      clusters: s.clusters.map((c) => ({ ...c, ready: c.ready ?? null, reachable: c.reachable ?? null })),
    }));
    process.stdout.write(`${JSON.stringify(json, null, 2)}\n`);
    return 0;
  }
  const flag = (v: boolean | undefined) => (v === true ? 'yes' : v === false ? 'no' : '?');
  const rows = services.flatMap((s) => {
    const common = [s.name, s.namespace, s.type, formatPorts(s.ports) || '-'];
    if (s.clusters.length === 0) return [[...common, '-', '-', '-', '-']];
    return s.clusters.map((c) => [
      ...common,
      c.self ? `${c.clusterId} (this host)` : c.clusterId,
      c.addresses.join(',') || '-',
      c.ready === undefined ? '-' : flag(c.ready),
      flag(c.reachable),
    ]);
  });
  process.stdout.write(
    renderTable(['SERVICE', 'NAMESPACE', 'TYPE', 'PORTS', 'CLUSTER', 'ADDRESS', 'READY', 'REACHABLE'], rows),
  );
  return 0;
}
