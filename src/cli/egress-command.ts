// `moor egress status|show`: the egress objects as tables, JSON or YAML.
import { homedir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { MoorError } from '../errors.ts';
import { egressPaths } from '../k8s/egress-paths.ts';
import { loadKubeconfig } from '../k8s/kubeconfig.ts';
import { KubeRestClient } from '../k8s/rest.ts';
import { type EgressReport, egressReport } from '../plan/egress-report.ts';
import { boolOption, enumOption, parseCommand, stringOption } from './args.ts';
import { renderHelp } from './spec/help.ts';
import { EGRESS_SHOW_SPEC, EGRESS_SPEC, EGRESS_STATUS_SPEC } from './specs/egress.ts';
import { renderTable } from './table.ts';

async function fetchReport(kubeconfig: string | undefined): Promise<EgressReport> {
  const path = kubeconfig ?? join(homedir(), '.kube', 'config');
  const client = new KubeRestClient(loadKubeconfig(path));
  try {
    const items = async (p: string) => (await client.get<{ items?: unknown[] }>(p)).items ?? [];
    const [gateways, policies, namespaces, pods] = await Promise.all([
      items(egressPaths.gateways),
      items(egressPaths.policies),
      items(egressPaths.namespaces),
      items(egressPaths.pods),
    ]);
    return egressReport({ gateways, policies, namespaces, pods });
  } finally {
    client.close();
  }
}

const cond = (s: { conditions?: { type: string; status: string }[] }, type: string) =>
  s.conditions?.find((c) => c.type === type)?.status ?? '-';
const problems = (s: { conditions?: { type: string; status: string; reason: string }[] }) =>
  (s.conditions ?? [])
    .filter((c) =>
      c.type === 'Conflict' || c.type === 'PoolOverlap'
        ? c.status === 'True'
        : c.status !== 'True' && c.reason !== '',
    )
    .map((c) => c.reason)
    .join(',') || '-';

function print(output: string, data: unknown, table: () => string): void {
  if (output === 'json') process.stdout.write(`${JSON.stringify(data, null, 2)}\n`);
  else if (output === 'yaml') process.stdout.write(stringify(data));
  else process.stdout.write(table());
}

export async function runEgress(args: string[]): Promise<number> {
  const top = parseCommand(EGRESS_SPEC, args);
  const what = top.positionals[0];
  if (what === undefined) {
    process.stdout.write(renderHelp(['egress'], EGRESS_SPEC));
    return boolOption(top, 'help') ? 0 : 2;
  }
  if (what !== 'status' && what !== 'show')
    throw new MoorError('invalid-argument', `egress: unknown subject "${what}"`, {
      hint: 'moor egress status|show POLICY',
    });
  const spec = what === 'status' ? EGRESS_STATUS_SPEC : EGRESS_SHOW_SPEC;
  const p = parseCommand(spec, args, { path: ['egress', what], consumedPositionals: 1 });
  if (boolOption(p, 'help')) {
    process.stdout.write(renderHelp(['egress', what], spec));
    return 0;
  }
  const output = enumOption(p, 'output') ?? 'table';
  const name = p.positionals[0];
  if (what === 'show' && !name)
    throw new MoorError('invalid-argument', 'egress show: name a policy', {
      hint: 'moor egress show POLICY',
    });
  const report = await fetchReport(stringOption(p, 'kubeconfig'));
  if (what === 'status') {
    print(output, report, () => {
      const gw = renderTable(
        ['GATEWAY', 'FLOATING-IP', 'ACTIVE-NODE', 'READY-NODES', 'ALLOCATED', 'FREE', 'READY', 'PROBLEMS'],
        report.gateways.map((g) => [
          g.name,
          g.floatingIP,
          g.status.activeNode ?? '-',
          String(g.status.readyNodeCount ?? 0),
          String(g.status.allocatedCount ?? 0),
          String(g.status.freeCount ?? 0),
          cond(g.status, 'Ready'),
          problems(g.status),
        ]),
      );
      const pol = renderTable(
        ['POLICY', 'GATEWAY', 'EGRESS-IPS', 'PRIORITY', 'PODS', 'ACTIVE-NODE', 'READY', 'PROBLEMS'],
        report.policies.map((x) => [
          x.name,
          x.gateway,
          (x.status.ips ?? []).join(',') || '-',
          String(x.priority),
          String(x.status.selectedPods ?? 0),
          x.status.activeNode ?? '-',
          cond(x.status, 'Ready'),
          problems(x.status),
        ]),
      );
      return `${gw}\n${pol}`;
    });
    return 0;
  }
  const policy = report.policies.find((x) => x.name === name);
  if (!policy)
    throw new MoorError('not-found', `egress show: no EgressPolicy "${name}"`, {
      hint: `policies: ${report.policies.map((x) => x.name).join(', ') || 'none'}`,
    });
  print(output, policy, () => {
    const head = [
      `Policy:       ${policy.name}`,
      `Gateway:      ${policy.gateway}`,
      `Egress IPs:   ${(policy.status.ips ?? []).join(', ') || '-'}`,
      `Active node:  ${policy.status.activeNode ?? '-'}`,
      `Priority:     ${policy.priority}   failurePolicy: ${policy.failurePolicy}`,
      `Destinations: ${policy.destinations.map((d) => (d.except?.length ? `${d.cidr} except ${d.except.join(',')}` : d.cidr)).join('; ')}`,
      '',
    ].join('\n');
    const conditions = renderTable(
      ['CONDITION', 'STATUS', 'REASON', 'MESSAGE'],
      (policy.status.conditions ?? []).map((c) => [c.type, c.status, c.reason, c.message]),
    );
    const pods = renderTable(
      ['POD', 'NODE', 'POD-IP', 'EGRESS-IP'],
      policy.pods.map((x) => [`${x.namespace}/${x.name}`, x.node ?? '-', x.podIP ?? '-', x.egressIP ?? '-']),
    );
    return `${head}\n${conditions}\n${pods}`;
  });
  return 0;
}
