// `moor agent`: the host as a pseudo-cluster. The cable engine does the cables; this wires it to
// the state `moor join` wrote (the host's clusterset addresses on the WireGuard link, its
// persistent key, its Cluster/Endpoint re-asserted on every resync) and adds what only a host
// has: the clusterset DNS server with the host resolver routed to it, and the host's exports.
import { wireguardPsk } from '../broker/psk.ts';
import { usableForDns } from '../cables/connectionStatus.ts';
import { CableEngine } from '../cables/engine.ts';
import type { AgentStatus } from '../cables/status.ts';
import type { CommandRunner } from '../dataplane/exec.ts';
import { UdpForwarder } from '../dns/forwarder.ts';
import { HostResolverIntegration, type ResolverOutcome } from '../dns/resolver.ts';
import { ClustersetDns } from '../dns/service.ts';
import { MoorError } from '../errors.ts';
import { ExportHealthLoop } from '../exports/health.ts';
import { ExportPublisher, publisherIdentity } from '../exports/publisher.ts';
import { loadExports } from '../exports/store.ts';
import { KubeRestClient } from '../k8s/rest.ts';
import { publishRegistration } from './registration.ts';
import { type HostState, loadPrivateKey, loadState, saveState } from './state.ts';
import { detectPrivateIp } from './underlay.ts';

export interface AgentOptions {
  stateDir: string;
  runner: CommandRunner;
  log: (line: string) => void;
  resyncMs?: number;
  statusIntervalMs?: number;
  driver?: 'kernel' | 'wireguard-go';
  /** Where the clusterset DNS listens; default the host's first clusterset address, port 53. */
  dns?: { address: string; port: number } | 'off';
  /** Upstream servers for names outside the clusterset zones (default: answer REFUSED). */
  dnsForward?: string[];
}

export class HostAgent {
  readonly state: HostState;
  readonly engine: CableEngine;
  private readonly client: KubeRestClient;
  private readonly options: AgentOptions;
  private readonly dns: ClustersetDns | undefined;
  private readonly resolver: HostResolverIntegration | undefined;
  private resolverOutcome: ResolverOutcome | undefined;
  private dnsStarted = false;
  private forwarder: UdpForwarder | undefined;
  private readonly exportPublisher: ExportPublisher;
  private readonly exportHealth: ExportHealthLoop;

  constructor(options: AgentOptions) {
    this.options = options;
    const state = loadState(options.stateDir);
    this.state = state;
    const privateKey = loadPrivateKey(options.stateDir);
    if (!privateKey) {
      throw new MoorError('not-found', `the WireGuard key is missing from ${options.stateDir}`, {
        hint: 'the state is incomplete: run `moor leave broker-info.subm` and join again',
      });
    }
    const b = state.broker;
    this.client = new KubeRestClient({
      server: b.server,
      token: b.token,
      insecure: b.insecure,
      ...(b.caPem ? { caPem: b.caPem } : {}),
    });
    const client = this.client;

    const listen =
      options.dns === 'off'
        ? undefined
        : (options.dns ?? { address: state.addresses[0] ?? '127.0.0.1', port: 53 });
    if (listen) {
      this.forwarder = options.dnsForward?.length
        ? new UdpForwarder({ upstreams: options.dnsForward })
        : undefined;
      this.dns = new ClustersetDns({
        ...(this.forwarder ? { forwarder: this.forwarder } : {}),
        client,
        namespace: b.namespace,
        localClusterId: state.clusterId,
        customDomains: state.customDomains,
        listen,
        log: options.log,
      });
      this.resolver = new HostResolverIntegration({
        runner: options.runner,
        stateDir: options.stateDir,
        interfaceName: state.interfaceName,
        server: listen,
        customDomains: state.customDomains,
        log: options.log,
      });
    }
    const exports = () => loadExports(options.stateDir);
    this.exportPublisher = new ExportPublisher({
      api: client,
      identity: publisherIdentity(state),
      loadExports: exports,
      log: options.log,
    });
    this.exportHealth = new ExportHealthLoop({
      publisher: this.exportPublisher,
      loadExports: exports,
      log: options.log,
    });

    let publicKey = '';
    this.engine = new CableEngine({
      clusterId: state.clusterId,
      namespace: b.namespace,
      client,
      interfaceName: state.interfaceName,
      privateKey,
      listenPort: state.port,
      psk: wireguardPsk(state.psk),
      selfAddresses: state.addresses,
      selfSubnets: state.addresses.map((a) => `${a}/32`),
      interfaceAddresses: state.addresses,
      routeSource: state.addresses[0] ?? '',
      publish: async () => {
        await this.followPrivateIp();
        const outcome = await publishRegistration(client, state, publicKey);
        for (const old of outcome.removedEndpoints)
          options.log(`registration: removed our old Endpoint ${old}`);
        if (outcome.cluster !== 'unchanged' || outcome.endpoint !== 'unchanged') {
          options.log(`registration: Cluster ${outcome.cluster}, Endpoint ${outcome.endpoint}`);
        }
        return outcome.endpointName;
      },
      afterReconcile: () => this.afterReconcile(),
      onConnections: (conns) =>
        this.dns?.setConnectedClusters(conns.filter(usableForDns).map((c) => c.clusterId)),
      extraStatus: () => this.extraStatus(),
      runner: options.runner,
      log: options.log,
      stateDir: options.stateDir,
      ...(options.resyncMs ? { resyncMs: options.resyncMs } : {}),
      ...(options.statusIntervalMs ? { statusIntervalMs: options.statusIntervalMs } : {}),
      ...(options.driver ? { driver: options.driver } : {}),
    });
    publicKey = this.engine.publicKey;
  }

  async start(): Promise<void> {
    await this.engine.start();
    this.exportHealth.start();
  }

  async stop(): Promise<void> {
    await this.exportHealth.stop();
    await this.engine.stop();
    await this.dns?.stop();
    await this.forwarder?.close();
    this.client.close();
  }

  /** DNS needs our address on the link before it can bind, so it starts after the first
   * reconcile; the resolver and the exports are re-asserted on every one. */
  private async afterReconcile(): Promise<string[]> {
    const errors: string[] = [];
    if (this.dns && !this.dnsStarted) {
      try {
        await this.dns.start();
        this.dnsStarted = true;
        const a = this.dns.address();
        this.options.log(`clusterset DNS listening on ${a?.address}:${a?.port}`);
      } catch (err) {
        errors.push(`DNS: ${err instanceof Error ? err.message : String(err)}`);
      }
    }
    if (this.resolver && this.dnsStarted) {
      try {
        const first = this.resolverOutcome === undefined;
        this.resolverOutcome = first ? await this.resolver.apply() : await this.resolver.ensure();
        if (first || this.resolverOutcome.changed)
          this.options.log(`resolver: ${this.resolverOutcome.summary}`);
      } catch (err) {
        errors.push(`resolver: ${err instanceof Error ? err.message : String(err)}`);
      }
    }
    try {
      const result = await this.exportPublisher.reassertAll();
      for (const e of result.errors) errors.push(`export: ${e}`);
    } catch (err) {
      errors.push(`exports: ${err instanceof Error ? err.message : String(err)}`);
    }
    return errors;
  }

  private extraStatus(): Pick<AgentStatus, 'dns' | 'exports'> {
    const stats = this.dns?.stats();
    const a = this.dns?.address();
    const exports = this.exportHealth.status();
    return {
      ...(stats
        ? {
            dns: {
              listen: a ? `${a.address}:${a.port}` : '',
              ready: stats.ready,
              services: stats.services,
              problems: stats.problems,
              brokerError: stats.brokerError,
              resolver: this.resolverOutcome
                ? {
                    kind: this.resolverOutcome.kind,
                    summary: this.resolverOutcome.summary,
                    instructions: this.resolverOutcome.instructions,
                  }
                : null,
            },
          }
        : {}),
      exports: exports.map((e) => ({ name: e.name, namespace: e.namespace, ready: e.ready ?? null })),
    };
  }

  /** A detected private IP follows the underlay (DHCP renumbering, a moved VM): the cable name
   * changes with it, so a new Endpoint is published and the old one removed. */
  private async followPrivateIp(): Promise<void> {
    if (!this.state.privateIpDetected) return;
    let current: string;
    try {
      current = await detectPrivateIp(this.options.runner);
    } catch {
      return; // no default route right now: keep what we have
    }
    if (current === this.state.privateIp || this.state.addresses.includes(current)) return;
    this.options.log(`private IP changed from ${this.state.privateIp} to ${current}`);
    this.state.privateIp = current;
    saveState(this.options.stateDir, this.state);
  }
}
