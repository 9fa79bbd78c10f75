// `moor controller`: the egress controller, leader elected on a Lease. A replica that loses the
// lease exits so its supervisor restarts it as a standby; two leaders for a moment would only
// write the same deterministic result twice.
import { hostname } from 'node:os';
import { ClustersetPublisher } from '../acl/clusterset-publisher.ts';
import { MappingView } from '../acl/mapping-view.ts';
import { assertValidClusterId, DEFAULT_BROKER_NAMESPACE } from '../broker/names.ts';
import { EgressController } from '../controller/controller.ts';
import { type EgressMapEndpoint, startEgressMapEndpoint } from '../controller/egress-map-endpoint.ts';
import { renderControllerMetrics } from '../controller/metrics.ts';
import { EgressDns } from '../dns/egress-service.ts';
import { MoorError } from '../errors.ts';
import { monotonicClock } from '../ha/clock.ts';
import { KubeLease } from '../ha/kubeLease.ts';
import { HaMember } from '../ha/member.ts';
import { timingsFor } from '../ha/timings.ts';
import { inClusterConfig, loadKubeconfig } from '../k8s/kubeconfig.ts';
import { KubeRestClient } from '../k8s/rest.ts';
import { parseListenAddress, startMetricsServer } from '../observability/metricsServer.ts';
import { DEFAULT_RETENTION, parseRetention } from '../plan/egress-history.ts';
import { boolOption, intOption, type Parsed, parseCommand, stringOption } from './args.ts';
import { renderHelp } from './spec/help.ts';
import { CONTROLLER_SPEC } from './specs/controller.ts';

export async function runController(args: string[]): Promise<number> {
  const p = parseCommand(CONTROLLER_SPEC, args);
  if (boolOption(p, 'help')) {
    process.stdout.write(renderHelp(['controller'], CONTROLLER_SPEC));
    return 0;
  }
  // Checked before anything connects: a bad setting never starts a controller that would prune.
  const retention = parseRetention(stringOption(p, 'acl-history-retention') ?? DEFAULT_RETENTION);
  if (!retention.ok)
    throw new MoorError('invalid-argument', `--acl-history-retention: ${retention.message}`, {
      hint: 'set --acl-history-retention (or acl-history-retention in the config file) to e.g. 90d',
    });
  const kubeconfig = stringOption(p, 'kubeconfig');
  const client = new KubeRestClient(kubeconfig ? loadKubeconfig(kubeconfig) : inClusterConfig());
  const log = (line: string) => process.stderr.write(`${new Date().toISOString()} ${line}\n`);
  const identity = stringOption(p, 'identity') ?? `${hostname()}-moor-controller`;
  const controller = new EgressController({
    client,
    eventNamespace: stringOption(p, 'event-namespace') ?? 'default',
    resyncMs: intOption(p, 'resync') * 1000,
    identity,
    aclHistoryRetentionMs: retention.ms,
    log,
  });
  // Served by every replica, independent of leadership: readers follow the API objects.
  const mapping = new MappingView({ client, onError: (e) => log(`mapping view: ${e.message}`) });
  const clusterset = clustersetPublisher(p, mapping, log);
  // First to listen, so a refused address leaves nothing running; 503 until the parts exist.
  const parts: { member?: HaMember; egressMap?: EgressMapEndpoint | undefined; dns?: EgressDns | undefined } =
    {};
  const metrics = await startControllerMetrics(p, () =>
    parts.member
      ? renderControllerMetrics({
          loops: [
            controller.loop,
            ...(clusterset ? [clusterset.publisher.loop] : []),
            ...(parts.dns ? [{ name: 'egress-dns', counters: parts.dns.reconcileCounters }] : []),
          ],
          egressMap: parts.egressMap?.stats(),
          ha: parts.member.status(),
        })
      : undefined,
  );
  try {
    parts.egressMap = await startEgressMapEndpoint({
      listen: stringOption(p, 'egress-map-listen'),
      tlsCert: stringOption(p, 'egress-map-tls-cert'),
      tlsKey: stringOption(p, 'egress-map-tls-key'),
      tlsReloadMs: intOption(p, 'egress-map-tls-reload') * 1000,
      client,
      mapping,
      log,
    });
    parts.dns = await startEgressDns(p, client, mapping, log);
  } catch (err) {
    // Nothing may keep a refused start alive (a watch or a socket would).
    await parts.egressMap?.stop();
    await mapping.stop();
    metrics?.close();
    clusterset?.broker.close();
    client.close();
    throw err;
  }
  const { egressMap, dns } = parts;
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
      if (clusterset) mapping.start(); // idempotent; shared with the endpoint and DNS
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
  parts.member = member;
  member.start();
  process.once('SIGTERM', () => finish());
  process.once('SIGINT', () => finish());
  // The HA timers are unref'd: this keeps a standby alive while it only waits.
  const keepAlive = setInterval(() => undefined, 1 << 30);
  await finished;
  clearInterval(keepAlive);
  await controller.stop();
  await dns?.stop();
  await clusterset?.publisher.stop();
  clusterset?.broker.close();
  await member.stop();
  await egressMap?.stop();
  metrics?.close();
  await mapping.stop();
  client.close();
  return exitCode;
}

/** `--dns-listen`: the egress DNS answer, on every replica (it reads the API objects, not the
 * leader's state). Started before the election so a bad address fails the command at once. */
async function startEgressDns(
  p: Parsed,
  client: KubeRestClient,
  mapping: MappingView,
  log: (line: string) => void,
): Promise<EgressDns | undefined> {
  const listen = stringOption(p, 'dns-listen') ?? 'off';
  if (listen === 'off') return undefined;
  const clusterId = stringOption(p, 'cluster-id');
  if (clusterId === undefined)
    throw new MoorError(
      'invalid-argument',
      '--dns-listen needs --cluster-id: the names carry the cluster ID',
      {
        hint: "add --cluster-id with this cluster's Submariner cluster ID, e.g. --cluster-id cluster-a",
      },
    );
  assertValidClusterId(clusterId);
  const { host, port } = parseListenAddress(listen, 'dns-listen');
  const dns = new EgressDns({ client, mapping, clusterId, listen: { address: host, port }, log });
  await dns.start();
  mapping.start();
  return dns;
}

/** `--metrics-address`: Prometheus /metrics on every replica (off by default, see the spec). */
async function startControllerMetrics(p: Parsed, render: () => string | undefined) {
  const at = stringOption(p, 'metrics-address') ?? 'off';
  if (at === 'off') return undefined;
  return startMetricsServer(parseListenAddress(at, 'metrics-address'), render);
}

/** --cluster-id with --broker-kubeconfig: the clusterset publisher (docs/egress-acl.md). */
function clustersetPublisher(p: Parsed, mapping: MappingView, log: (line: string) => void) {
  const clusterID = stringOption(p, 'cluster-id');
  const brokerKubeconfig = stringOption(p, 'broker-kubeconfig');
  if (brokerKubeconfig === undefined) return undefined; // --cluster-id alone: DNS names only
  if (clusterID === undefined)
    throw new MoorError(
      'invalid-argument',
      'publishing to the broker (--broker-kubeconfig) needs --cluster-id',
      {
        hint: "add --cluster-id with this cluster's Submariner cluster ID, or drop --broker-kubeconfig to run without the clusterset view",
      },
    );
  assertValidClusterId(clusterID);
  const broker = new KubeRestClient(loadKubeconfig(brokerKubeconfig));
  const publisher = new ClustersetPublisher({
    mapping,
    broker,
    namespace: stringOption(p, 'broker-namespace') ?? DEFAULT_BROKER_NAMESPACE,
    clusterID,
    resyncMs: intOption(p, 'resync') * 1000,
    log,
  });
  return { broker, publisher };
}
