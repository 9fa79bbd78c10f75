// `moor acl export|who|diff|withdraw`: reads the mapping and history objects from the cluster API and
// prints them for firewall teams. All formatting is in src/acl (pure, golden-tested).
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { clusterAccessError, readMembers } from '../acl/clusterset-members.ts';
import { summaryAccessError, summaryPaths } from '../acl/clusterset-objects.ts';
import { readClustersetView } from '../acl/clusterset-view.ts';
import { withdrawSummaries } from '../acl/clusterset-withdraw.ts';
import { diffAcl, readAclExport, renderDiff } from '../acl/diff.ts';
import { type AclFormat, renderAcl } from '../acl/render.ts';
import {
  type AclFilter,
  aclRules,
  compareRules,
  describeRule,
  matchesFilter,
  parseWorkloadFilter,
} from '../acl/rules.ts';
import { namespaceExists, type Problem, policyExists, readHistories, readMapping } from '../acl/store.ts';
import { brokerClientOptions, loadState, stateDir } from '../agent/state.ts';
import { assertValidClusterId, clusterObjectName, DEFAULT_BROKER_NAMESPACE } from '../broker/names.ts';
import { MoorError } from '../errors.ts';
import { readInputFile } from '../inputFile.ts';
import { inClusterConfig, loadKubeconfig } from '../k8s/kubeconfig.ts';
import { brokerPaths, itemPath } from '../k8s/paths.ts';
import { KubeRestClient } from '../k8s/rest.ts';
import { isIpv4 } from '../net/ipv4.ts';
import { advanceHistory, who } from '../plan/egress-history.ts';
import { boolOption, enumOption, type Parsed, parseCommand, stringOption } from './args.ts';
import { renderHelp } from './spec/help.ts';
import type { CommandSpec } from './spec/types.ts';
import { ACL_DIFF_SPEC, ACL_EXPORT_SPEC, ACL_SPEC, ACL_WHO_SPEC, ACL_WITHDRAW_SPEC } from './specs/acl.ts';

/** kubectl's order: --kubeconfig, then $KUBECONFIG (first existing file of the list), ~/.kube/config, in-cluster. */
export function clusterClient(parsed: Parsed): KubeRestClient {
  const given = stringOption(parsed, 'kubeconfig');
  const candidates =
    given !== undefined && parsed.sources.kubeconfig === 'flag'
      ? [given]
      : [...(given ?? '').split(':').filter(Boolean), join(homedir(), '.kube', 'config')];
  const path = parsed.sources.kubeconfig === 'flag' ? given : candidates.find((p) => existsSync(p));
  return new KubeRestClient(path ? loadKubeconfig(path) : inClusterConfig());
}

function warn(problems: readonly Problem[]): void {
  for (const p of problems) process.stderr.write(`moor acl: ignored ${p.object}: ${p.problem}\n`);
}

function sub(args: string[], spec: CommandSpec, word: string): Parsed | undefined {
  const parsed = parseCommand(spec, args, { path: ['acl', word], consumedPositionals: 1 });
  if (boolOption(parsed, 'help')) {
    process.stdout.write(renderHelp(['acl', word], spec));
    return undefined;
  }
  return parsed;
}

export async function runAcl(args: string[]): Promise<number> {
  // The subcommand comes first (`moor acl export -o nft`); its own spec parses the rest.
  const what = args[0] !== undefined && !args[0].startsWith('-') ? args[0] : undefined;
  if (what === undefined) {
    const help = args.includes('--help') || args.includes('-h');
    process.stdout.write(renderHelp(['acl'], ACL_SPEC));
    return help ? 0 : 2;
  }
  const run = { export: runExport, who: runWho, diff: runDiff, withdraw: runWithdraw }[what];
  if (!run)
    throw new MoorError('invalid-argument', `acl: unknown subcommand "${what}"`, {
      hint: 'moor acl export|who|diff|withdraw',
    });
  return run(args);
}

/** Argument checks that need no cluster, done before any credentials are looked for. */
function checkArguments(parsed: Parsed): void {
  const workload = stringOption(parsed, 'workload');
  if (workload !== undefined && !parseWorkloadFilter(workload))
    throw new MoorError('invalid-argument', `--workload ${JSON.stringify(workload)} is not KIND/NAME`, {
      hint: 'e.g. --workload Deployment/checkout',
    });
  enumOption(parsed, 'output');
}

async function filterFrom(parsed: Parsed, client: KubeRestClient): Promise<AclFilter> {
  const filter: AclFilter = {};
  const ns = stringOption(parsed, 'namespace');
  const policy = stringOption(parsed, 'policy');
  const workload = stringOption(parsed, 'workload');
  if (workload !== undefined) filter.workload = workload;
  if (policy !== undefined) {
    if (!(await policyExists(client, policy)))
      throw new MoorError('not-found', `there is no EgressPolicy named "${policy}"`, {
        hint: 'list them with: kubectl get egresspolicies',
      });
    filter.policy = policy;
  }
  if (ns !== undefined) {
    if (!(await namespaceExists(client, ns)))
      throw new MoorError('not-found', `there is no namespace "${ns}"`, {
        hint: 'list them with: kubectl get namespaces',
      });
    filter.namespace = ns;
  }
  return filter;
}

async function runExport(args: string[]): Promise<number> {
  const parsed = sub(args, ACL_EXPORT_SPEC, 'export');
  if (!parsed) return 0;
  checkArguments(parsed);
  if (boolOption(parsed, 'clusterset')) return runClustersetExport(parsed);
  const client = clusterClient(parsed);
  try {
    const filter = await filterFrom(parsed, client);
    const { rows, problems } = await readMapping(client);
    warn(problems);
    const rules = aclRules(rows, filter);
    if (filter.workload !== undefined && rules.length === 0)
      throw new MoorError('not-found', `no pod of ${filter.workload} leaves from an egress IP`, {
        hint: 'check the workload name and the policies that select it: moor acl export',
      });
    const cluster = stringOption(parsed, 'cluster');
    const doc = { generatedAt: new Date().toISOString(), ...(cluster ? { cluster } : {}), filter, rules };
    process.stdout.write(renderAcl(doc, (enumOption(parsed, 'output') ?? 'json') as AclFormat));
    return 0;
  } finally {
    client.close();
  }
}

/** The broker as a member (--broker-kubeconfig) or as the joined host this runs on sees it. */
function brokerReader(parsed: Parsed): { client: KubeRestClient; namespace: string } {
  const kubeconfig = stringOption(parsed, 'broker-kubeconfig');
  if (kubeconfig !== undefined)
    return {
      client: new KubeRestClient(loadKubeconfig(kubeconfig)),
      namespace: stringOption(parsed, 'broker-namespace') ?? DEFAULT_BROKER_NAMESPACE,
    };
  const state = loadState(stateDir(stringOption(parsed, 'state-dir')));
  return { client: new KubeRestClient(brokerClientOptions(state.broker)), namespace: state.broker.namespace };
}

/** `--clusterset`: every member's rules from the broker's EgressMapSummary objects. */
async function runClustersetExport(parsed: Parsed): Promise<number> {
  const { client, namespace } = brokerReader(parsed);
  try {
    const list = async (path: string, explain: (err: unknown, ns: string) => unknown) => {
      try {
        const l = await client.get<{ items?: unknown[] }>(path);
        return Array.isArray(l.items) ? l.items : [];
      } catch (err) {
        throw explain(err, namespace);
      }
    };
    // Membership first: without the Cluster objects nothing can be trusted, so nothing is printed.
    const clusters = await list(brokerPaths.clusters(namespace), clusterAccessError);
    const items = await list(summaryPaths.collection(namespace), summaryAccessError);
    const view = readClustersetView(items, readMembers(clusters));
    for (const p of view.problems)
      process.stderr.write(`moor acl: ignored ${p.object} (${p.code}): ${p.problem}\n`);
    const filter: AclFilter = {};
    for (const key of ['namespace', 'policy', 'workload'] as const) {
      const v = stringOption(parsed, key);
      if (v !== undefined) filter[key] = v;
    }
    const cluster = stringOption(parsed, 'cluster');
    const rules = view.clusters
      .filter((c) => cluster === undefined || c.cluster === cluster)
      .flatMap((c) => c.rules)
      .filter((r) => matchesFilter(r, filter))
      .sort(compareRules);
    if (rules.length === 0 && (cluster !== undefined || Object.keys(filter).length > 0))
      throw new MoorError(
        'not-found',
        `no rule of the clusterset matches ${describeFilter(filter, cluster)}`,
        {
          hint: 'list everything with: moor acl export --clusterset',
        },
      );
    const doc = { generatedAt: new Date().toISOString(), filter, rules };
    process.stdout.write(renderAcl(doc, (enumOption(parsed, 'output') ?? 'json') as AclFormat));
    return 0;
  } finally {
    client.close();
  }
}

/** `withdraw --clusterset`: delete this member's own EgressMapSummary objects (the leave step). */
async function runWithdraw(args: string[]): Promise<number> {
  const parsed = sub(args, ACL_WITHDRAW_SPEC, 'withdraw');
  if (!parsed) return 0;
  const usage =
    'moor acl withdraw --clusterset --cluster-id ID --broker-kubeconfig FILE [--broker-namespace NS]';
  if (!boolOption(parsed, 'clusterset'))
    throw new MoorError('invalid-argument', 'acl withdraw: give --clusterset (what to withdraw from)', {
      hint: usage,
    });
  const clusterID = stringOption(parsed, 'cluster-id');
  const kubeconfig = stringOption(parsed, 'broker-kubeconfig');
  if (clusterID === undefined || kubeconfig === undefined)
    throw new MoorError(
      'invalid-argument',
      `acl withdraw --clusterset needs ${clusterID === undefined ? '--cluster-id' : '--broker-kubeconfig'}: the member's objects are deleted with its own broker credential`,
      { hint: usage },
    );
  assertValidClusterId(clusterID);
  const namespace = stringOption(parsed, 'broker-namespace') ?? DEFAULT_BROKER_NAMESPACE;
  const client = new KubeRestClient(loadKubeconfig(kubeconfig));
  try {
    const r = await withdrawSummaries(client, namespace, clusterID);
    for (const o of r.deleted) process.stdout.write(`deleted ${o}\n`);
    for (const o of r.leftAlone)
      process.stderr.write(
        `moor acl: left alone ${o}: labelled submariner-io/clusterID=${clusterID} but not named "${clusterID}-…", so it may be another cluster's; the broker admin removes it if it is junk\n`,
      );
    for (const f of r.failed)
      process.stderr.write(
        `moor acl: could not delete ${f.object}: ${f.error instanceof Error ? f.error.message : String(f.error)}${f.error instanceof MoorError && f.error.hint ? `\n  fix: ${f.error.hint}` : ''}\n`,
      );
    process.stdout.write(
      r.deleted.length > 0
        ? `withdrew ${r.deleted.length} EgressMapSummary object${r.deleted.length === 1 ? '' : 's'} of cluster ${clusterID} from broker namespace ${namespace}\n`
        : r.failed.length > 0
          ? ''
          : `nothing to withdraw: cluster ${clusterID} has no EgressMapSummary objects in broker namespace ${namespace}\n`,
    );
    if (await stillMember(client, namespace, clusterID))
      process.stderr.write(
        `moor acl: note: cluster ${clusterID} still has a Cluster object on the broker (it is a member): if its controller still publishes (--broker-kubeconfig), it writes the objects again\n`,
      );
    return r.failed.length > 0 ? 1 : 0;
  } finally {
    client.close();
  }
}

/** Best effort: whether our Cluster object is still on the broker (a note only, never an error). */
async function stillMember(client: KubeRestClient, namespace: string, clusterID: string): Promise<boolean> {
  try {
    const cluster = await client.get(itemPath(brokerPaths.clusters(namespace), clusterObjectName(clusterID)));
    return readMembers([cluster]).ids.has(clusterID);
  } catch {
    return false;
  }
}

function describeFilter(filter: AclFilter, cluster: string | undefined): string {
  return [
    ...(cluster !== undefined ? [`--cluster ${cluster}`] : []),
    ...Object.entries(filter).map(([k, v]) => `--${k} ${v}`),
  ].join(' ');
}

async function runWho(args: string[]): Promise<number> {
  const parsed = sub(args, ACL_WHO_SPEC, 'who');
  if (!parsed) return 0;
  const ip = parsed.positionals[0];
  if (ip === undefined || !isIpv4(ip))
    throw new MoorError(
      'invalid-argument',
      `acl who: ${ip === undefined ? 'give an IP' : `"${ip}" is not an IPv4 address`}`,
      {
        hint: 'moor acl who 203.0.113.20 [--at 2026-11-24T14:02:00Z]',
      },
    );
  const atText = stringOption(parsed, 'at');
  const now = new Date().toISOString();
  if (atText !== undefined && Number.isNaN(Date.parse(atText)))
    throw new MoorError('invalid-argument', `--at ${JSON.stringify(atText)} is not a time`, {
      hint: 'give RFC 3339, e.g. 2026-11-24T14:02:00Z',
    });
  const at = atText === undefined ? now : new Date(Date.parse(atText)).toISOString();
  checkArguments(parsed);
  const client = clusterClient(parsed);
  try {
    const [{ histories, problems }, mapping] = await Promise.all([
      readHistories(client),
      readMapping(client),
    ]);
    warn([...problems, ...mapping.problems]);
    // The history as the controller would write it next: the current mapping opens what it holds now.
    const merged = advanceHistory({
      previous: histories,
      rows: mapping.rows,
      now,
      retentionMs: Number.MAX_SAFE_INTEGER,
    });
    const answer = who(merged.histories, ip, at);
    if (enumOption(parsed, 'output') === 'json') process.stdout.write(`${JSON.stringify(answer, null, 2)}\n`);
    else if (!answer.known)
      process.stdout.write(
        answer.reason === 'never-used'
          ? `${ip} has never been an egress IP in this cluster (as far as the kept history goes)\n`
          : `${ip} was not held by any workload at ${at}\n`,
      );
    else
      for (const r of answer.holders)
        process.stdout.write(
          `${ip} at ${at}: ${describeRule({ ...r, egressIP: ip, destinations: [], pods: r.pods.length })}, held from ${r.from} ${r.to ? `to ${r.to}` : 'until now'}; pods: ${r.pods.join(', ')}\n`,
        );
    return answer.known ? 0 : 1;
  } finally {
    client.close();
  }
}

async function runDiff(args: string[]): Promise<number> {
  const parsed = sub(args, ACL_DIFF_SPEC, 'diff');
  if (!parsed) return 0;
  const file = parsed.positionals[0];
  if (file === undefined)
    throw new MoorError('invalid-argument', 'acl diff: give the earlier export file', {
      hint: 'moor acl export -o json > acl.json; later: moor acl diff acl.json',
    });
  const before = readAclExport(
    readInputFile(file, {
      what: 'earlier export',
      maxBytes: 64 << 20,
      hint: 'give a file written by moor acl export',
    }).toString('utf8'),
    file,
  );
  checkArguments(parsed);
  const client = clusterClient(parsed);
  try {
    const given = await filterFrom(parsed, client);
    const filter = Object.keys(given).length > 0 ? given : before.filter;
    const { rows, problems } = await readMapping(client);
    warn(problems);
    const changes = diffAcl(before.rules, aclRules(rows, filter));
    process.stdout.write(
      enumOption(parsed, 'output') === 'json'
        ? `${JSON.stringify(changes, null, 2)}\n`
        : renderDiff(changes, before.cluster),
    );
    return changes.length === 0 ? 0 : 1;
  } finally {
    client.close();
  }
}
