// `moor leave`: undo everything join created, on the host and on the broker. Idempotent: each
// step treats "already gone" as done, so a half-finished leave can simply be run again.
// With only the member credential the host can withdraw its Cluster and Endpoint; deleting the
// member ServiceAccount, RoleBinding, token Secret and address claims needs the broker admin
// token, so it happens when broker-info.subm is given (the host never stores the admin token).
import type { BrokerInfo } from '../broker/brokerInfo.ts';
import { brokerServerUrl } from '../broker/brokerInfo.ts';
import {
  clusterObjectName,
  roleBindingName,
  serviceAccountName,
  serviceAccountTokenPrefix,
} from '../broker/names.ts';
import { MoorError } from '../errors.ts';
import { ExportPublisher, publisherIdentity } from '../exports/publisher.ts';
import { loadExports } from '../exports/store.ts';
import { deleteIfExists } from '../k8s/objects.ts';
import { brokerPaths, itemPath } from '../k8s/paths.ts';
import { KubeRestClient } from '../k8s/rest.ts';
import { ADDRESS_CLAIM_LABEL, CLAIM_OWNER_LABEL } from './addresses.ts';
import { withdrawRegistration } from './registration.ts';
import { brokerClientOptions, type HostState, hasState, loadState, removeState } from './state.ts';

export interface LeaveRequest {
  stateDir: string;
  brokerInfo?: BrokerInfo;
  brokerUrl?: string;
  /** Needed only when there is no local state (cleaning the broker after a lost host). */
  clusterId?: string;
  checkBrokerCertificate: boolean;
}

export interface LeaveDeps {
  log: (line: string) => void;
  /** Stops the agent and removes the host's interface, addresses, routes and DNS settings. */
  teardownHost: (state: HostState) => Promise<void>;
  /** Stops the agent only (when the state is too damaged to tear the host down). */
  stopAgent: () => Promise<void>;
}

export interface LeaveResult {
  removed: string[];
  /** Broker objects left because the admin credential was not given. */
  remaining: string[];
}

export async function leave(req: LeaveRequest, deps: LeaveDeps): Promise<LeaveResult> {
  const removed: string[] = [];
  const remaining: string[] = [];
  const present = hasState(req.stateDir);
  let state: HostState | undefined;
  try {
    state = present ? loadState(req.stateDir) : undefined;
  } catch (err) {
    // A damaged state file must not make leave impossible (its fix is "leave and join again").
    if (!(err instanceof MoorError) || err.code !== 'invalid-input' || !req.clusterId) {
      throw err instanceof MoorError && err.code === 'invalid-input'
        ? new MoorError('invalid-input', err.message, {
            hint: `to leave anyway, run \`moor leave broker-info.subm --clusterid <id> --state-dir ${req.stateDir}\``,
          })
        : err;
    }
    deps.log(`${err.message}: leaving with --clusterid ${req.clusterId} instead`);
    await deps.stopAgent();
    remaining.push(
      'the WireGuard interface, if one is left (the damaged state no longer names it): `ip link del <name>`',
    );
    if (!req.brokerInfo)
      remaining.push(
        `this host's objects on the broker: run \`moor leave broker-info.subm --clusterid ${req.clusterId}\``,
      );
  }
  const clusterId = state?.clusterId ?? req.clusterId;
  if (!clusterId) {
    // Nothing joined here (a leave that already ran, or never a join): done, as the help promises.
    deps.log(
      `this host is not joined (no state in ${req.stateDir}): nothing to leave` +
        (req.brokerInfo ? '; to clean up a lost host on the broker, add --clusterid <id>' : ''),
    );
    return { removed, remaining };
  }
  if (state) {
    await deps.teardownHost(state);
    removed.push(`interface ${state.interfaceName} and its addresses and routes`);
    const member = new KubeRestClient(brokerClientOptions(state.broker));
    try {
      // Unexport first (spec §8.9): other clusters must stop resolving our services before the
      // cable to us goes away.
      const publisher = new ExportPublisher({
        api: member,
        identity: publisherIdentity(state),
        loadExports: () => loadExports(req.stateDir),
        log: deps.log,
      });
      for (const exp of loadExports(req.stateDir)) {
        await publisher.withdraw(exp.name, exp.namespace);
        removed.push(`export ${exp.namespace}/${exp.name}`);
      }
      removed.push(...(await withdrawRegistration(member, state)));
    } catch (err) {
      // The member token may already be gone (a previous leave deleted it); the admin pass below
      // removes the objects then. Without the admin token, report and keep going.
      deps.log(
        `could not withdraw with the member credential: ${err instanceof Error ? err.message : String(err)}`,
      );
    } finally {
      member.close();
    }
  }

  const ns = state?.broker.namespace ?? req.brokerInfo?.namespace ?? '';
  const sa = serviceAccountName(clusterId);
  const rb = roleBindingName(clusterId);
  if (req.brokerInfo) {
    const info = req.brokerInfo;
    const admin = new KubeRestClient({
      server: brokerServerUrl(req.brokerUrl ?? info.brokerURL),
      token: info.token,
      insecure: !req.checkBrokerCertificate,
      ...(info.caCrt ? { caPem: info.caCrt } : {}),
    });
    try {
      const bns = info.namespace;
      const selector = (s: string) => `?labelSelector=${encodeURIComponent(s)}`;
      // Registration objects too, in case the member credential could not remove them.
      const endpoints = await admin.get<{ items?: Array<{ metadata: { name: string } }> }>(
        `${brokerPaths.endpoints(bns)}${selector(`submariner-io/clusterID=${clusterId}`)}`,
      );
      for (const e of endpoints.items ?? []) {
        if (await deleteIfExists(admin, itemPath(brokerPaths.endpoints(bns), e.metadata.name)))
          removed.push(`Endpoint ${e.metadata.name}`);
      }
      if (await deleteIfExists(admin, itemPath(brokerPaths.clusters(bns), clusterObjectName(clusterId)))) {
        removed.push(`Cluster ${clusterObjectName(clusterId)}`);
      }
      const secrets = await admin.get<{
        items?: Array<{ metadata: { name: string; annotations?: Record<string, string> } }>;
      }>(brokerPaths.secrets(bns));
      for (const s of secrets.items ?? []) {
        const ours =
          s.metadata.name.startsWith(serviceAccountTokenPrefix(clusterId)) &&
          s.metadata.annotations?.['kubernetes.io/service-account.name'] === sa;
        if (ours && (await deleteIfExists(admin, itemPath(brokerPaths.secrets(bns), s.metadata.name)))) {
          removed.push(`Secret ${s.metadata.name}`);
        }
      }
      if (await deleteIfExists(admin, itemPath(brokerPaths.roleBindings(bns), rb)))
        removed.push(`RoleBinding ${rb}`);
      if (await deleteIfExists(admin, itemPath(brokerPaths.serviceAccounts(bns), sa)))
        removed.push(`ServiceAccount ${sa}`);
      const claims = await admin.get<{ items?: Array<{ metadata: { name: string } }> }>(
        `${brokerPaths.configMaps(bns)}${selector(`${ADDRESS_CLAIM_LABEL}=true,${CLAIM_OWNER_LABEL}=${clusterId}`)}`,
      );
      for (const c of claims.items ?? []) {
        if (await deleteIfExists(admin, itemPath(brokerPaths.configMaps(bns), c.metadata.name)))
          removed.push(`address claim ${c.metadata.name}`);
      }
    } finally {
      admin.close();
    }
  } else if (state) {
    remaining.push(
      `ServiceAccount ${sa}, RoleBinding ${rb}, its token Secret and address claims in namespace ${ns}` +
        ` (deleting them needs the broker admin token: run \`moor leave broker-info.subm --clusterid ${clusterId}\`)`,
    );
  }
  if (present) {
    removeState(req.stateDir);
    removed.push(`state directory ${req.stateDir}`);
  }
  return { removed, remaining };
}
