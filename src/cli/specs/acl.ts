// `moor acl export|who|diff|withdraw`: the egress ACL for firewall teams.
import { clusterIdProblem, DEFAULT_BROKER_NAMESPACE } from '../../broker/names.ts';
import { DEFAULT_RETENTION, parseRetention } from '../../plan/egress-history.ts';
import type { CommandSpec, OptionSpec } from '../spec/types.ts';
import { STATE_DIR } from './shared.ts';

export const KUBECONFIG: OptionSpec = {
  name: 'kubeconfig',
  kind: 'string',
  arg: 'FILE',
  description: "credentials for the cluster's API, as kubectl reads them",
  defaultText: '~/.kube/config, else the in-cluster service account',
  env: 'KUBECONFIG',
  complete: 'file',
};

/**
 * For `moor controller` (CONTROLLER_SPEC options, added when the controller writes the history):
 * how long closed EgressIPHistory records are kept. 0 or junk is refused with parseRetention's
 * message, on the command line and in the config file alike.
 */
export const ACL_HISTORY_RETENTION: OptionSpec = {
  name: 'acl-history-retention',
  kind: 'string',
  arg: 'DURATION',
  description: 'how long the egress IP history keeps a closed record',
  default: DEFAULT_RETENTION,
  config: 'command',
  validate: (v) => parseRetention(v).ok,
  allowed: 'a duration above 0 like 90d, 12h or 30m (at most 3660d)',
};

/** The broker, as a member reads and writes it (controller and `acl export --clusterset`). */
export const BROKER_KUBECONFIG: OptionSpec = {
  name: 'broker-kubeconfig',
  kind: 'string',
  arg: 'FILE',
  description: "the member's broker credential (server, CA, the cluster-<id> ServiceAccount token)",
  config: 'command',
  complete: 'file',
};

export const BROKER_NAMESPACE: OptionSpec = {
  name: 'broker-namespace',
  kind: 'string',
  arg: 'NS',
  description: 'the broker namespace',
  default: DEFAULT_BROKER_NAMESPACE,
  config: 'command',
};

/** For `moor controller`: with --broker-kubeconfig, publishes the mapping summary to the broker. */
export const CLUSTER_ID: OptionSpec = {
  name: 'cluster-id',
  kind: 'string',
  arg: 'ID',
  description:
    "this cluster's Submariner cluster ID: the <cluster> label of egress DNS names (--dns-listen), and with --broker-kubeconfig the controller publishes its egress mapping summary to the broker (EgressMapSummary)",
  config: 'command',
  validate: (v) => clusterIdProblem(v) === undefined,
  allowed: 'a DNS-1123 label like cluster-a',
};

const FILTERS: OptionSpec[] = [
  { name: 'namespace', kind: 'string', arg: 'NS', description: 'only workloads in this namespace' },
  { name: 'policy', kind: 'string', arg: 'POLICY', description: 'only pods of this EgressPolicy' },
  {
    name: 'workload',
    kind: 'string',
    arg: 'KIND/NAME',
    description: 'only this workload, e.g. Deployment/checkout',
  },
];

export const ACL_EXPORT_SPEC: CommandSpec = {
  name: 'export',
  summary: 'the allow-list of egress IPs, ready to import into a firewall',
  description: [
    'One rule per egress IP and workload: "allow 203.0.113.20 = payments/checkout (Deployment) to 10.50.0.0/24", read from the EgressMapSlice objects the controller writes.',
    'json and yaml are reviewable documents that `moor acl diff` reads back; csv is one line per destination; cidr lists the egress IPs; nft loads with `nft -f FILE` (table ip moor_acl, replaced atomically); iptables loads with `iptables-restore --noflush < FILE` and is hooked once with `iptables -I INPUT -j MOOR-ACL` (and FORWARD). Both accept only the egress IPs towards the destinations the ACL covers and drop (and count) anything else to them.',
    'A --policy or --namespace that does not exist is an error.',
    "--clusterset lists every member's rules from the broker: with --broker-kubeconfig (a member's broker credential), else with the stored credential of the host this runs on (`moor join`, --state-dir). Only objects of members (clusters with a Submariner Cluster object on the broker) whose name, label submariner-io/clusterID and content agree on one cluster ID are trusted; the others (a cluster that left: not-a-member), and one egress IP claimed by two clusters, are named on stderr and left out. Filters match rules of every cluster; one that matches nothing is an error.",
  ],
  positionals: [],
  options: [
    {
      name: 'output',
      short: 'o',
      kind: 'enum',
      values: ['json', 'yaml', 'csv', 'nft', 'iptables', 'cidr'],
      description: 'format',
      default: 'json',
    },
    ...FILTERS,
    {
      name: 'cluster',
      kind: 'string',
      arg: 'ID',
      description: "cluster ID to name in the export; with --clusterset, only that cluster's rules",
    },
    {
      name: 'clusterset',
      kind: 'boolean',
      description:
        "every member's egress IPs, from the broker's EgressMapSummary objects, with the cluster in each rule",
    },
    { ...BROKER_KUBECONFIG, config: undefined },
    { ...BROKER_NAMESPACE, config: undefined },
    {
      ...STATE_DIR,
      description:
        "with --clusterset and no --broker-kubeconfig: the joined host's state, whose broker credential is used",
    },
    KUBECONFIG,
  ],
};

export const ACL_WHO_SPEC: CommandSpec = {
  name: 'who',
  summary: 'which workload holds, or held, an egress IP',
  description: [
    'Which workload held IP at --at (default now), from the EgressIPHistory objects the controller keeps, with the current mapping for the present. An IP that was never an egress IP in the kept history is said to be so (exit status 1).',
  ],
  positionals: [{ name: 'IP', description: 'the egress IP' }],
  options: [
    {
      name: 'at',
      kind: 'string',
      arg: 'TIME',
      description: 'the moment, RFC 3339 (2026-11-24T14:02:00Z)',
      defaultText: 'now',
    },
    {
      name: 'output',
      short: 'o',
      kind: 'enum',
      values: ['text', 'json'],
      description: 'output format',
      default: 'text',
    },
    KUBECONFIG,
  ],
};

export const ACL_DIFF_SPEC: CommandSpec = {
  name: 'diff',
  summary: 'what changed since an earlier export',
  description: [
    'Compare the current allow-list with FILE (an earlier `moor acl export -o json` or `-o yaml`): one line per removed (-) and added (+) rule, so a firewall change can be reviewed. The filters of FILE apply unless given again. Exit status 0 when nothing changed, 1 when something did.',
  ],
  positionals: [{ name: 'FILE', description: 'an earlier export', complete: 'file' }],
  options: [
    {
      name: 'output',
      short: 'o',
      kind: 'enum',
      values: ['text', 'json'],
      description: 'output format',
      default: 'text',
    },
    ...FILTERS,
    KUBECONFIG,
  ],
};

export const ACL_WITHDRAW_SPEC: CommandSpec = {
  name: 'withdraw',
  summary: "remove this member's egress IPs from the clusterset view (the leave step)",
  description: [
    "--clusterset deletes this cluster's own EgressMapSummary objects from the broker, with the member's broker credential: only objects whose name starts with the cluster ID and whose label submariner-io/clusterID is the cluster ID, never another cluster's. Prints each object it deleted; a second run has nothing to withdraw (exit status 0).",
    'Run it when the cluster leaves the clusterset, after its controller stopped publishing (stop it, or drop its --broker-kubeconfig): a running publisher writes the objects again. Readers already ignore the summaries of a cluster without a Cluster object on the broker; this removes them. See docs/egress-acl.md, "Leaving the clusterset".',
  ],
  positionals: [],
  options: [
    {
      name: 'clusterset',
      kind: 'boolean',
      description: "withdraw this cluster's EgressMapSummary objects from the broker",
    },
    {
      ...CLUSTER_ID,
      description: "this cluster's Submariner cluster ID, as the controller publishes it (--cluster-id)",
      config: undefined,
    },
    { ...BROKER_KUBECONFIG, config: undefined },
    { ...BROKER_NAMESPACE, config: undefined },
  ],
};

export const ACL_SPEC: CommandSpec = {
  name: 'acl',
  summary: 'egress IP allow-lists for firewall teams: export, who, diff, withdraw',
  description: [
    'Which workload leaves from which static egress IP, now and in the past, in the formats firewall tools import. Reads the cluster API with a kubeconfig, like kubectl. See docs/egress-acl.md.',
  ],
  positionals: [],
  options: [KUBECONFIG],
  subcommands: [ACL_EXPORT_SPEC, ACL_WHO_SPEC, ACL_DIFF_SPEC, ACL_WITHDRAW_SPEC],
};
