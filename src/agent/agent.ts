// `moor agent`: the host as a pseudo-cluster. The cable engine does the work; this wires it to
// the state `moor join` wrote: the host's clusterset addresses on the WireGuard link, its
// persistent key (restarts keep the same key, so peers never need reprogramming), and its own
// Cluster/Endpoint re-asserted on every resync.
import { wireguardPsk } from '../broker/psk.ts';
import { CableEngine } from '../cables/engine.ts';
import type { CommandRunner } from '../dataplane/exec.ts';
import { MoorError } from '../errors.ts';
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
}

export class HostAgent {
  readonly state: HostState;
  readonly engine: CableEngine;
  private readonly client: KubeRestClient;

  constructor(options: AgentOptions) {
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
        await this.followPrivateIp(options);
        const outcome = await publishRegistration(client, state, publicKey);
        for (const old of outcome.removedEndpoints)
          options.log(`registration: removed our old Endpoint ${old}`);
        if (outcome.cluster !== 'unchanged' || outcome.endpoint !== 'unchanged') {
          options.log(`registration: Cluster ${outcome.cluster}, Endpoint ${outcome.endpoint}`);
        }
        return outcome.endpointName;
      },
      runner: options.runner,
      log: options.log,
      stateDir: options.stateDir,
      ...(options.resyncMs ? { resyncMs: options.resyncMs } : {}),
      ...(options.statusIntervalMs ? { statusIntervalMs: options.statusIntervalMs } : {}),
      ...(options.driver ? { driver: options.driver } : {}),
    });
    publicKey = this.engine.publicKey;
  }

  /** A detected private IP follows the underlay (DHCP renumbering, a moved VM): the cable name
   * changes with it, so a new Endpoint is published and the old one removed. */
  private async followPrivateIp(options: AgentOptions): Promise<void> {
    if (!this.state.privateIpDetected) return;
    let current: string;
    try {
      current = await detectPrivateIp(options.runner);
    } catch {
      return; // no default route right now: keep what we have
    }
    if (current === this.state.privateIp || this.state.addresses.includes(current)) return;
    options.log(`private IP changed from ${this.state.privateIp} to ${current}`);
    this.state.privateIp = current;
    saveState(options.stateDir, this.state);
  }

  start(): Promise<void> {
    return this.engine.start();
  }

  async stop(): Promise<void> {
    await this.engine.stop();
    this.client.close();
  }
}
