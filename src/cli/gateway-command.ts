// `moor gateway`: run the cluster end of the cables on a gateway node.
import { hostname } from 'node:os';
import { ensureStateDir } from '../agent/state.ts';
import { detectPrivateIp, localAddresses } from '../agent/underlay.ts';
import { brokerServerUrl } from '../broker/brokerInfo.ts';
import { readBrokerInfoFile } from '../broker/brokerInfoFile.ts';
import { assertValidClusterId } from '../broker/names.ts';
import { ExecRunner } from '../dataplane/exec.ts';
import { MoorError } from '../errors.ts';
import { GatewayService } from '../gateway/gateway.ts';
import { inClusterConfig, loadKubeconfig } from '../k8s/kubeconfig.ts';
import { KubeRestClient } from '../k8s/rest.ts';
import { contains, parseCidr, parseIpv4 } from '../net/ipv4.ts';
import { renderMetrics } from '../observability/metrics.ts';
import { parseListenAddress, startMetricsServer } from '../observability/metricsServer.ts';
import {
  boolOption,
  boolStringOption,
  enumOption,
  intOption,
  listOption,
  parseCommand,
  stringOption,
} from './args.ts';
import { renderHelp } from './spec/help.ts';
import { DEFAULT_GATEWAY_METRICS_ADDRESS, DEFAULT_GATEWAY_STATE_DIR, GATEWAY_SPEC } from './specs/gateway.ts';

export async function runGateway(args: string[]): Promise<number> {
  const p = parseCommand(GATEWAY_SPEC, args);
  if (boolOption(p, 'help')) {
    process.stdout.write(renderHelp(['gateway'], GATEWAY_SPEC));
    return 0;
  }
  const need = (name: string) => {
    const v = stringOption(p, name);
    if (!v)
      throw new MoorError('invalid-argument', `gateway: --${name} is required`, {
        hint: 'see `moor gateway --help`',
      });
    return v;
  };
  const infoPath = need('broker-info');
  const clusterId = need('clusterid');
  assertValidClusterId(clusterId);
  const clusterCidrs = listOption(p, 'cluster-cidr');
  const serviceCidrs = listOption(p, 'service-cidr');
  if (clusterCidrs.length === 0)
    throw new MoorError('invalid-argument', 'gateway: --cluster-cidr is required', {
      hint: "give the cluster's pod CIDR, e.g. --cluster-cidr 10.42.0.0/16",
    });
  for (const c of [...clusterCidrs, ...serviceCidrs]) parseCidr(c);
  const vip = stringOption(p, 'vip');
  const vipDev = stringOption(p, 'vip-interface');
  if ((vip === undefined) !== (vipDev === undefined)) {
    throw new MoorError('invalid-argument', 'gateway: --vip and --vip-interface go together', {
      hint: 'give both (the floating address and the device that carries it), or neither',
    });
  }
  const driver = enumOption(p, 'wireguard-driver') as 'kernel' | 'wireguard-go' | undefined;

  const runner = new ExecRunner();
  const info = readBrokerInfoFile(infoPath);
  const insecure = !boolStringOption(p, 'check-broker-certificate');
  const broker = new KubeRestClient({
    server: brokerServerUrl(info.brokerURL),
    token: info.token,
    insecure,
    ...(info.caCrt ? { caPem: info.caCrt } : {}),
  });
  const kubeconfig = stringOption(p, 'kubeconfig');
  const cluster = new KubeRestClient(kubeconfig ? loadKubeconfig(kubeconfig) : inClusterConfig());
  const privateIp = stringOption(p, 'private-ip') ?? (await detectPrivateIp(runner));
  let healthCheckIp = stringOption(p, 'health-check-ip');
  if (!healthCheckIp) {
    const inside = (await localAddresses(runner)).find((a) =>
      clusterCidrs.some((c) => contains(parseCidr(c), parseIpv4(a.address))),
    );
    healthCheckIp = inside?.address;
  }
  const dir = stringOption(p, 'state-dir') ?? DEFAULT_GATEWAY_STATE_DIR;
  ensureStateDir(dir);
  const log = (line: string) => process.stderr.write(`${new Date().toISOString()} ${line}\n`);
  if (!healthCheckIp) log('no local address inside the cluster CIDRs: publishing no healthCheckIP');

  let exitCode = 0;
  let finish!: () => void;
  const finished = new Promise<void>((r) => {
    finish = r;
  });
  const identityOpt = stringOption(p, 'identity');
  const service = new GatewayService({
    identity: {
      clusterId,
      namespace: info.namespace,
      serviceCidrs,
      clusterCidrs,
      hostname: stringOption(p, 'hostname') ?? hostname(),
      privateIp,
      publicIp: stringOption(p, 'public-ip') ?? '',
      port: intOption(p, 'port'),
      healthCheckIp,
    },
    broker,
    cluster,
    psk: info.ipsecPskString,
    interfaceName: stringOption(p, 'interface') ?? 'submariner',
    vip: vip && vipDev ? { cidr: vip, dev: vipDev } : undefined,
    lease: {
      namespace: stringOption(p, 'lease-namespace') ?? 'moor-system',
      name: stringOption(p, 'lease-name') ?? 'moor-gateway-lock',
      durationS: intOption(p, 'lease-duration'),
      renewDeadlineS: intOption(p, 'renew-deadline'),
      retryPeriodS: intOption(p, 'retry-period'),
      ...(identityOpt ? { identity: identityOpt } : {}),
    },
    stateDir: dir,
    runner,
    log,
    resyncMs: intOption(p, 'resync') * 1000,
    ...(driver ? { driver } : {}),
    onFatal: (reason) => {
      log(`fatal: ${reason}`);
      exitCode = 1;
      finish();
    },
  });
  const metricsAt = stringOption(p, 'metrics-address') ?? DEFAULT_GATEWAY_METRICS_ADDRESS;
  const metrics =
    metricsAt === 'off'
      ? undefined
      : await startMetricsServer(parseListenAddress(metricsAt, 'metrics-address'), () => {
          const st = service.status();
          const role = `# HELP moor_gateway_active 1 on the active gateway of the cluster.\n# TYPE moor_gateway_active gauge\nmoor_gateway_active ${st ? 1 : 0}\n`;
          return st ? role + renderMetrics(st) : role;
        });
  await service.start();
  process.once('SIGTERM', () => finish());
  process.once('SIGINT', () => finish());
  await finished;
  metrics?.close();
  await service.stop();
  broker.close();
  cluster.close();
  return exitCode;
}
