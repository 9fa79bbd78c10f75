// `moor controller`: the egress controller, leader elected on a Lease. A replica that loses the
// lease exits so its supervisor restarts it as a standby; two leaders for a moment would only
// write the same deterministic result twice.
import { hostname } from 'node:os';
import { ClustersetPublisher } from '../acl/clusterset-publisher.ts';
import { MappingView } from '../acl/mapping-view.ts';
import { assertValidClusterId, DEFAULT_BROKER_NAMESPACE } from '../broker/names.ts';
import { EgressController } from '../controller/controller.ts';
import { MoorError } from '../errors.ts';
import { monotonicClock } from '../ha/clock.ts';
import { KubeLease } from '../ha/kubeLease.ts';
import { HaMember } from '../ha/member.ts';
import { timingsFor } from '../ha/timings.ts';
import { inClusterConfig, loadKubeconfig } from '../k8s/kubeconfig.ts';
import { KubeRestClient } from '../k8s/rest.ts';
import { boolOption, intOption, type Parsed, parseCommand, stringOption } from './args.ts';
import { renderHelp } from './spec/help.ts';
import { CONTROLLER_SPEC } from './specs/controller.ts';

export async function runController(args: string[]): Promise<number> {
  const p = parseCommand(CONTROLLER_SPEC, args);
  if (boolOption(p, 'help')) {
    process.stdout.write(renderHelp(['controller'], CONTROLLER_SPEC));
    return 0;
  }
  const kubeconfig = stringOption(p, 'kubeconfig');
  const client = new KubeRestClient(kubeconfig ? loadKubeconfig(kubeconfig) : inClusterConfig());
  const log = (line: string) => process.stderr.write(`${new Date().toISOString()} ${line}\n`);
  const identity = stringOption(p, 'identity') ?? `${hostname()}-moor-controller`;
  const clusterset = clustersetPublisher(p, client, log);
  const controller = new EgressController({
    client,
    eventNamespace: stringOption(p, 'event-namespace') ?? 'default',
    resyncMs: intOption(p, 'resync') * 1000,
    identity,
    log,
  });
  let exitCode = 0;
  let finish!: () => void;
  const finished = new Promise<void>((r) => {
    finish = r;
  });
  let leading = false;
  // Two leaders at once would only write the same deterministic result twice; the Lease keeps
  // that rare. Lease only, no heartbeats: a standby takes over after the lease duration.
  const member = new HaMember({
    identity,
    lease: new KubeLease(
      client,
      stringOption(p, 'lease-namespace') ?? 'moor-egress',
      'moor-egress-controller',
    ),
    heartbeats: undefined,
    clock: monotonicClock,
    // Kube-style timings, not the data-path gateway's 600 ms deadline: nothing waits on a
    // controller failover, and a busy API server (1,000 Pod writes, docs/benchmarks.md) made the
    // leader miss 600 ms and exit with no standby to take over.
    timings: timingsFor({ renewDeadlineMs: 10_000, renewIntervalMs: 2_000, leaseDurationMs: 15_000 }),
    activate: async () => {
      leading = true;
      log(`controller: leading as ${identity}`);
      controller.start();
      // Leader only: one writer per broker object (it is idempotent, so a new leader rewrites nothing).
      clusterset?.mapping.start();
      clusterset?.publisher.start();
    },
    deactivate: async () => {
      if (!leading) return;
      log('controller: lost the lease; exiting so a standby takes over');
      exitCode = 1;
      finish();
    },
    log: (line) => log(`ha controller: ${line}`),
  });
  member.start();
  process.once('SIGTERM', () => finish());
  process.once('SIGINT', () => finish());
  // The HA timers are unref'd: this keeps a standby alive while it only waits.
  const keepAlive = setInterval(() => undefined, 1 << 30);
  await finished;
  clearInterval(keepAlive);
  await controller.stop();
  await clusterset?.publisher.stop();
  await clusterset?.mapping.stop();
  clusterset?.broker.close();
  await member.stop();
  client.close();
  return exitCode;
}

/** --cluster-id with --broker-kubeconfig: the clusterset publisher (docs/egress-acl.md). */
function clustersetPublisher(p: Parsed, client: KubeRestClient, log: (line: string) => void) {
  const clusterID = stringOption(p, 'cluster-id');
  const brokerKubeconfig = stringOption(p, 'broker-kubeconfig');
  if (clusterID === undefined && brokerKubeconfig === undefined) return undefined;
  if (clusterID === undefined || brokerKubeconfig === undefined)
    throw new MoorError(
      'invalid-argument',
      'publishing to the broker needs both --cluster-id and --broker-kubeconfig',
      {
        hint: 'give both, or neither to run without the clusterset view',
      },
    );
  assertValidClusterId(clusterID);
  const broker = new KubeRestClient(loadKubeconfig(brokerKubeconfig));
  const mapping = new MappingView({
    client,
    onError: (err) => log(`clusterset: watching EgressMapSlices failed: ${err.message} (retrying)`),
  });
  const publisher = new ClustersetPublisher({
    mapping,
    broker,
    namespace: stringOption(p, 'broker-namespace') ?? DEFAULT_BROKER_NAMESPACE,
    clusterID,
    resyncMs: intOption(p, 'resync') * 1000,
    log,
  });
  return { broker, mapping, publisher };
}
