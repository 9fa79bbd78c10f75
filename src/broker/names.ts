// Naming rules shared with Submariner (spec §1.4, §2.1, §2.2). Remote gateways derive nothing
// from these names, but humans and `subctl` do, so we form them exactly like a real gateway.
import { MoorError } from '../errors.ts';
import { formatIpv4, parseIpv4 } from '../net/ipv4.ts';

/** Label that makes a broker object visible to other clusters (spec §2.6). */
export const CLUSTER_ID_LABEL = 'submariner-io/clusterID';
export const DEFAULT_BROKER_NAMESPACE = 'submariner-k8s-broker';
/** Role every per-cluster ServiceAccount is bound to (spec §1.3). */
export const BROKER_CLUSTER_ROLE = 'submariner-k8s-broker-cluster';
export const BROKER_ADMIN_SERVICE_ACCOUNT = 'submariner-k8s-broker-admin';
export const IPSEC_PSK_SECRET_NAME = 'submariner-ipsec-psk';

export const CLUSTER_ID_MAX_LENGTH = 63;
/** Limit from Submariner's Aug-2026 hardening (PRs #4145, #4162). */
export const CABLE_NAME_MAX_LENGTH = 200;

const CABLE_NAME_PREFIX = 'submariner-cable-';
const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
// Upstream says "supported characters" without publishing the set in the PR text; cable names
// are built from a DNS-1123 cluster ID and an IP address, so letters, digits, '.', '_' and '-'
// cover every name a real gateway produces while keeping quotes, spaces and slashes out.
const CABLE_NAME_CHARS = /^[A-Za-z0-9._-]+$/;

/**
 * Admiral's EnsureValidName: lower-case, every character outside [a-z0-9.-] becomes '-',
 * leading and trailing '-' are trimmed. Used for Cluster and Endpoint object names.
 */
export function ensureValidName(name: string): string {
  let out = '';
  // Iterate by code point, like Go iterates runes, so one non-ASCII character becomes one '-'.
  for (const char of name) {
    const lower = char.toLowerCase();
    out += /^[a-z0-9.-]$/.test(lower) ? lower : '-';
  }
  return out.replace(/^-+/, '').replace(/-+$/, '');
}

/**
 * Why `clusterId` is not a cluster ID subctl would accept (a DNS-1123 label), or undefined when
 * it is fine. The message names the rule and, where possible, a corrected ID.
 */
export function clusterIdProblem(clusterId: string): string | undefined {
  if (clusterId.length === 0) return 'the cluster ID is empty';
  if (clusterId.length <= CLUSTER_ID_MAX_LENGTH && DNS1123_LABEL.test(clusterId)) return undefined;
  const why =
    clusterId.length > CLUSTER_ID_MAX_LENGTH
      ? `it has ${clusterId.length} characters; at most ${CLUSTER_ID_MAX_LENGTH} are allowed`
      : "use only lower-case letters, digits and '-', and start and end with a letter or digit";
  const suggestion = suggestClusterId(clusterId);
  const hint = suggestion === undefined ? '' : ` (for example "${suggestion}")`;
  return `cluster ID ${JSON.stringify(clusterId)} is not a valid DNS-1123 label: ${why}${hint}`;
}

export function assertValidClusterId(clusterId: string): void {
  const problem = clusterIdProblem(clusterId);
  if (problem !== undefined) {
    throw new MoorError('invalid-argument', problem, {
      hint: 'choose a cluster ID like "vm-db-1": lower-case letters, digits and "-", at most 63 characters',
    });
  }
}

/**
 * A valid cluster ID derived from any name (subctl does this for kube context names): lower-case,
 * runs of other characters become '-', a leading or trailing '-' becomes '0', cut to 63.
 */
export function suggestClusterId(name: string): string | undefined {
  const sanitised = name
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .slice(0, CLUSTER_ID_MAX_LENGTH)
    .replace(/^-/, '0')
    .replace(/-$/, '0');
  return DNS1123_LABEL.test(sanitised) ? sanitised : undefined;
}

/** `submariner-cable-<clusterId>-<a-b-c-d>`, formed from the IPv4 private IP like a real gateway. */
export function cableName(clusterId: string, privateIp: string): string {
  const name = `${CABLE_NAME_PREFIX}${clusterId}-${formatIpv4(parseIpv4(privateIp)).replaceAll('.', '-')}`;
  const problem = cableNameProblem(name);
  if (problem !== undefined) {
    throw new MoorError('invalid-argument', problem, { hint: 'use a shorter cluster ID made of [a-z0-9-]' });
  }
  return name;
}

/** Why remote gateways (Aug-2026 and later) would refuse this cable name, or undefined. */
export function cableNameProblem(name: string): string | undefined {
  if (name.length === 0) return 'cable name is empty';
  if (name.length > CABLE_NAME_MAX_LENGTH) {
    return `cable name has ${name.length} characters; at most ${CABLE_NAME_MAX_LENGTH} are allowed`;
  }
  if (!CABLE_NAME_CHARS.test(name)) {
    return "cable name contains characters other than letters, digits, '.', '_' and '-'";
  }
  return undefined;
}

/** Name of the Endpoint object: EnsureValidName(clusterId + "-" + cableName) (spec §2.2). */
export function endpointName(clusterId: string, cable: string): string {
  return ensureValidName(`${clusterId}-${cable}`);
}

/** Name of the Cluster object: EnsureValidName(clusterId) (spec §2.1). */
export function clusterObjectName(clusterId: string): string {
  return ensureValidName(clusterId);
}

/** Per-cluster broker ServiceAccount, as subctl join creates it (spec §1.4 step 7). */
export function serviceAccountName(clusterId: string): string {
  return `cluster-${clusterId}`;
}

export function roleBindingName(clusterId: string): string {
  return `cluster-${clusterId}-${BROKER_CLUSTER_ROLE}`;
}

/** generateName prefix of the per-cluster token Secret. */
export function serviceAccountTokenPrefix(clusterId: string): string {
  return `cluster-${clusterId}-token-`;
}
