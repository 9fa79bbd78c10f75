// `moor join`: make this host a member of the clusterset. With the broker admin token from
// broker-info.subm it checks the cluster ID is free, claims the host's address(es), and creates
// the member ServiceAccount cluster-<id> with its RoleBinding and token Secret, exactly as
// `subctl join` does. From then on the host keeps only that narrower token. Every step that
// creates something registers its undo; a failure rolls back in reverse order, and so does an
// interruption (SIGTERM/SIGINT abort `signal`): it is checked before every broker request, never
// after one, so an object the broker created always has its undo registered before we stop.
import { rmSync } from 'node:fs';
import { hostname as osHostname } from 'node:os';
import { join as joinPath } from 'node:path';
import type { BrokerInfo } from '../broker/brokerInfo.ts';
import { brokerServerUrl } from '../broker/brokerInfo.ts';
import {
  assertValidClusterId,
  BROKER_CLUSTER_ROLE,
  clusterObjectName,
  roleBindingName,
  serviceAccountName,
  serviceAccountTokenPrefix,
} from '../broker/names.ts';
import { wireguardPsk } from '../broker/psk.ts';
import { ProtectedAddressSource } from '../cables/protectedAddresses.ts';
import type { CommandRunner } from '../dataplane/exec.ts';
import { type HostNetworkPort, HostNetworkReader } from '../dataplane/host-network.ts';
import { generateKeyPair } from '../dataplane/wireguard/keys.ts';
import { MoorError } from '../errors.ts';
import { deleteIfExists, getIfExists } from '../k8s/objects.ts';
import { brokerPaths, itemPath } from '../k8s/paths.ts';
import { isConflict, isNotFound, KubeRestClient, type KubeRestOptions } from '../k8s/rest.ts';
import { parseUnicastAddressOption, parseUnicastCidrOption } from '../net/ipv4.ts';
import { allocateFromPool, checkAddressesFree, claimAddress, refuseProtectedAddresses } from './addresses.ts';
import { checkJoinFlags } from './joinFlags.ts';
import { publishRegistration, registrationObjects, withdrawRegistration } from './registration.ts';
import { type HostState, hasState, loadState, savePrivateKey, saveState } from './state.ts';
import { prepareStateDir } from './stateDir.ts';
import { detectPrivateIp } from './underlay.ts';

export interface JoinRequest {
  brokerInfo: BrokerInfo;
  brokerUrl?: string;
  clusterId: string;
  addresses: string[];
  pool: string;
  privateIp?: string;
  publicIp?: string;
  port: number;
  interfaceName: string;
  hostname?: string;
  checkBrokerCertificate: boolean;
  stateDir: string;
  /** How long to wait for the token controller to fill the member token Secret. */
  tokenTimeoutMs?: number;
  /** Aborted by SIGTERM/SIGINT: join stops before its next broker request and rolls back. */
  signal?: AbortSignal;
}

export interface JoinDeps {
  runner: CommandRunner;
  log: (line: string) => void;
  /** Default gateways and nameservers (default: read from this host with `runner`). */
  hostNetwork?: HostNetworkPort;
}

export interface JoinResult {
  state: HostState;
  publicKey: string;
  alreadyJoined: boolean;
}

/** Stops before each request once `signal` is aborted; `finishing()` lets the rollback through. */
class InterruptibleClient extends KubeRestClient {
  #signal: AbortSignal | undefined;
  constructor(options: KubeRestOptions, signal: AbortSignal | undefined) {
    super(options);
    this.#signal = signal;
  }
  finishing(): void {
    this.#signal = undefined;
  }
  override request(method: string, path: string, body?: unknown, contentType?: string): Promise<unknown> {
    if (this.#signal?.aborted) return Promise.reject(interrupted(this.#signal));
    return super.request(method, path, body, contentType);
  }
}

function interrupted(signal: AbortSignal): MoorError {
  const name = typeof signal.reason === 'string' ? signal.reason : 'a signal';
  return new MoorError('interrupted', `join interrupted by ${name}`, {
    hint: 'what it had created was rolled back (a step that failed is logged above); run `moor join` again to join',
    exitCode: name === 'SIGINT' ? 130 : 143,
  });
}

export async function join(req: JoinRequest, deps: JoinDeps): Promise<JoinResult> {
  assertValidClusterId(req.clusterId);
  checkJoinFlags(req);
  // Before anything else, and above all before the broker: a state directory that cannot hold
  // the state must fail now, not after objects were created.
  const prepared = prepareStateDir(req.stateDir, { probe: true });
  try {
    return await joinPrepared(req, deps);
  } catch (err) {
    // A directory this join created held nothing before; one that existed keeps what it had.
    if (prepared.created !== undefined) rmSync(prepared.created, { recursive: true, force: true });
    throw err;
  }
}

async function joinPrepared(req: JoinRequest, deps: JoinDeps): Promise<JoinResult> {
  if (hasState(req.stateDir)) {
    const existing = loadState(req.stateDir);
    if (existing.clusterId !== req.clusterId) {
      throw new MoorError('invalid-argument', `this host already joined as cluster "${existing.clusterId}"`, {
        hint: 'run `moor leave` first to join under another cluster ID',
      });
    }
    deps.log(`already joined as ${existing.clusterId}; nothing to do`);
    return { state: existing, publicKey: '', alreadyJoined: true };
  }
  // Nothing is created before every address is known to be usable (special-purpose blocks such
  // as loopback, link-local or multicast are never a host's address; see src/net/ipv4.ts).
  for (const a of req.addresses) parseUnicastAddressOption('--address', a);
  if (req.addresses.length === 0) parseUnicastCidrOption('--pool', req.pool);
  if (req.privateIp !== undefined) parseUnicastAddressOption('--private-ip', req.privateIp);
  if (req.publicIp !== undefined) parseUnicastAddressOption('--public-ip', req.publicIp);
  const privateIp = req.privateIp ?? (await detectPrivateIp(deps.runner));
  if (req.privateIp === undefined) parseUnicastAddressOption('the detected private IP', privateIp);
  const publicIp = req.publicIp ?? '';
  for (const a of req.addresses) {
    if (a === privateIp || a === publicIp) {
      throw new MoorError('invalid-argument', `address ${a} is also this host's tunnel endpoint address`, {
        hint: 'the clusterset address is routed through the tunnel; the tunnel endpoint must not be, or packets loop. Pick another address',
      });
    }
  }
  const info = req.brokerInfo;
  wireguardPsk(info.ipsecPskString); // refuses an empty or default PSK before anything is created
  const server = brokerServerUrl(req.brokerUrl ?? info.brokerURL);
  const ns = info.namespace;
  const hostNeeds = await new ProtectedAddressSource({
    host: deps.hostNetwork ?? new HostNetworkReader(deps.runner),
    brokerServer: server,
    log: deps.log,
  }).read();
  refuseProtectedAddresses(req.addresses, hostNeeds);
  const admin = new InterruptibleClient(
    {
      server,
      token: info.token,
      insecure: !req.checkBrokerCertificate,
      ...(info.caCrt ? { caPem: info.caCrt } : {}),
    },
    req.signal,
  );
  const undo: Array<{ what: string; run: () => Promise<unknown> }> = [];
  let member: InterruptibleClient | undefined;
  try {
    // Connectivity and authorization in one: subctl lists Clusters the same way.
    await admin.get(brokerPaths.clusters(ns));
    if (await getIfExists(admin, itemPath(brokerPaths.clusters(ns), clusterObjectName(req.clusterId)))) {
      throw new MoorError('broker-conflict', `cluster ID "${req.clusterId}" is already taken on the broker`, {
        hint: `choose another --clusterid; if it was this host before it lost its state, run \`moor leave BROKER-INFO --clusterid ${req.clusterId}\` first`,
      });
    }

    const addresses: string[] = [];
    const claims: string[] = [];
    if (req.addresses.length > 0) {
      await checkAddressesFree(admin, ns, req.clusterId, req.addresses);
      for (const a of req.addresses) {
        const claim = await claimAddress(admin, ns, req.clusterId, a);
        if (!claim) {
          throw new MoorError('broker-conflict', `address ${a} is claimed by another host`, {
            hint: 'choose another --address',
          });
        }
        undo.push({
          what: `address claim ${claim.claim}`,
          run: () => deleteIfExists(admin, itemPath(brokerPaths.configMaps(ns), claim.claim)),
        });
        addresses.push(a);
        claims.push(claim.claim);
      }
    } else {
      const claim = await allocateFromPool(admin, ns, req.clusterId, req.pool, hostNeeds);
      undo.push({
        what: `address claim ${claim.claim}`,
        run: () => deleteIfExists(admin, itemPath(brokerPaths.configMaps(ns), claim.claim)),
      });
      addresses.push(claim.address);
      claims.push(claim.claim);
      deps.log(`allocated clusterset address ${claim.address} from ${req.pool}`);
    }

    const credential = await createMemberCredential(
      admin,
      ns,
      req.clusterId,
      undo,
      req.tokenTimeoutMs ?? 30_000,
      req.signal,
    );
    member = new InterruptibleClient(
      {
        server,
        token: credential.token,
        insecure: !req.checkBrokerCertificate,
        ...(info.caCrt ? { caPem: info.caCrt } : {}),
      },
      req.signal,
    );
    const state: HostState = {
      version: 1,
      clusterId: req.clusterId,
      broker: {
        server,
        namespace: ns,
        caPem: info.caCrt ?? '',
        insecure: !req.checkBrokerCertificate,
        token: credential.token,
      },
      psk: info.ipsecPskString,
      serviceDiscovery: info.serviceDiscovery || info.components.includes('service-discovery'),
      customDomains: info.customDomains ?? [],
      addresses,
      addressClaims: claims,
      privateIp,
      privateIpDetected: req.privateIp === undefined,
      publicIp,
      natEnabled: publicIp !== '' && publicIp !== privateIp,
      port: req.port,
      interfaceName: req.interfaceName,
      hostname: req.hostname ?? osHostname(),
      credential: {
        serviceAccount: credential.serviceAccount,
        roleBinding: credential.roleBinding,
        tokenSecret: credential.secret,
      },
    };
    const keys = generateKeyPair();
    registrationObjects(state, keys.publicKey); // validates the objects before anything is stored
    undo.push({
      what: `state files in ${req.stateDir}`,
      run: async () => {
        for (const f of ['state.json', 'wireguard.key']) rmSync(joinPath(req.stateDir, f), { force: true });
      },
    });
    saveState(req.stateDir, state);
    savePrivateKey(req.stateDir, keys.privateKey);
    // Publish with the member token: this proves the narrower credential works.
    const memberClient = member;
    undo.push({ what: 'Cluster and Endpoint', run: () => withdrawRegistration(memberClient, state) });
    await publishRegistration(member, state, keys.publicKey);
    // A signal during the last request: the operator asked to stop, so the join does not stand.
    if (req.signal?.aborted) throw interrupted(req.signal);
    deps.log(
      `joined the clusterset on ${server} as cluster "${req.clusterId}" with address(es) ${addresses.join(', ')}`,
    );
    return { state, publicKey: keys.publicKey, alreadyJoined: false };
  } catch (err) {
    admin.finishing();
    member?.finishing();
    if (req.signal?.aborted) deps.log(`interrupted (${String(req.signal.reason)}): rolling back`);
    for (const step of undo.reverse()) {
      try {
        await step.run();
      } catch (undoErr) {
        deps.log(
          `rollback: could not remove ${step.what}: ${undoErr instanceof Error ? undoErr.message : String(undoErr)}`,
        );
      }
    }
    throw err;
  } finally {
    admin.close();
    member?.close();
  }
}

interface CreatedCredential {
  serviceAccount: string;
  roleBinding: string;
  secret: string;
  token: string;
}

async function createMemberCredential(
  admin: KubeRestClient,
  ns: string,
  clusterId: string,
  undo: Array<{ what: string; run: () => Promise<unknown> }>,
  tokenTimeoutMs: number,
  signal: AbortSignal | undefined,
): Promise<CreatedCredential> {
  const sa = serviceAccountName(clusterId);
  const rb = roleBindingName(clusterId);
  try {
    await admin.create(brokerPaths.serviceAccounts(ns), {
      apiVersion: 'v1',
      kind: 'ServiceAccount',
      metadata: { name: sa },
    });
    undo.push({
      what: `ServiceAccount ${sa}`,
      run: () => deleteIfExists(admin, itemPath(brokerPaths.serviceAccounts(ns), sa)),
    });
  } catch (err) {
    if (!isConflict(err)) throw err; // a leftover of an earlier attempt: reuse it
  }
  try {
    await admin.create(brokerPaths.roleBindings(ns), {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'RoleBinding',
      metadata: { name: rb },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: BROKER_CLUSTER_ROLE },
      subjects: [{ kind: 'ServiceAccount', name: sa, namespace: ns }],
    });
    undo.push({
      what: `RoleBinding ${rb}`,
      run: () => deleteIfExists(admin, itemPath(brokerPaths.roleBindings(ns), rb)),
    });
  } catch (err) {
    if (isNotFound(err)) {
      throw new MoorError(
        'broker-forbidden',
        `the broker has no Role ${BROKER_CLUSTER_ROLE} in namespace ${ns}`,
        {
          hint: 'the broker was not set up by `subctl deploy-broker`, or its Role was deleted: run subctl deploy-broker again',
          cause: err,
        },
      );
    }
    if (!isConflict(err)) throw err;
  }
  const secret = await admin.create<{ metadata: { name: string } }>(brokerPaths.secrets(ns), {
    apiVersion: 'v1',
    kind: 'Secret',
    type: 'kubernetes.io/service-account-token',
    metadata: {
      generateName: serviceAccountTokenPrefix(clusterId),
      annotations: { 'kubernetes.io/service-account.name': sa, 'kubernetes.io/created-by': 'moor' },
    },
  });
  const secretName = secret.metadata.name;
  undo.push({
    what: `Secret ${secretName}`,
    run: () => deleteIfExists(admin, itemPath(brokerPaths.secrets(ns), secretName)),
  });
  // The token controller fills data.token; subctl waits the same way (backoff from 30 ms).
  const deadline = Date.now() + tokenTimeoutMs;
  for (let delay = 30; ; delay = Math.min(1_000, Math.round(delay * 1.3))) {
    const s = await admin.get<{ data?: Record<string, string> }>(
      itemPath(brokerPaths.secrets(ns), secretName),
    );
    const token = s.data?.token;
    if (token)
      return {
        serviceAccount: sa,
        roleBinding: rb,
        secret: secretName,
        token: Buffer.from(token, 'base64').toString('utf8'),
      };
    if (Date.now() > deadline) {
      throw new MoorError(
        'system',
        `the broker did not issue a token for ServiceAccount ${sa} within ${tokenTimeoutMs} ms`,
        {
          hint: "the broker's token controller (kube-controller-manager) must run; check the broker cluster",
        },
      );
    }
    await sleep(delay, signal); // the next request throws once interrupted
  }
}

/** Waits `ms`, or less when `signal` aborts first. */
function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
}
