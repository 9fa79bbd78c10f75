// `moor gateway`: run the cluster end of the cables on a gateway node.
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { ensureStateDir } from '../agent/state.ts';
import { detectPrivateIp, localAddresses } from '../agent/underlay.ts';
import { brokerServerUrl, decodeBrokerInfo } from '../broker/brokerInfo.ts';
import { assertValidClusterId } from '../broker/names.ts';
import { ExecRunner } from '../dataplane/exec.ts';
import { MoorError } from '../errors.ts';
import { GatewayService } from '../gateway/gateway.ts';
import { inClusterConfig, loadKubeconfig } from '../k8s/kubeconfig.ts';
import { KubeRestClient } from '../k8s/rest.ts';
import {
  contains,
  parseCidr,
  parseIpv4,
  parseUnicastAddressOption,
  parseUnicastCidrOption,
  tryParseAddressInCidr,
} from '../net/ipv4.ts';
import { renderMetrics } from '../observability/metrics.ts';
import { parseListenAddress, startMetricsServer } from '../observability/metricsServer.ts';
import {
  boolOption,
  boolStringOption,
  intOption,
  listOption,
  parseCommandArgs,
  stringOption,
} from './args.ts';

export const GATEWAY_HELP = `Usage: moor gateway --broker-info FILE --clusterid ID --cluster-cidr CIDR [options]

Run a Submariner-compatible WireGuard gateway for a cluster that does not run Submariner. Run
it on every gateway node; a Lease in the cluster elects the active one. The active gateway
publishes the cluster's Cluster and Endpoint on the broker (fresh key per start), terminates
cables from every member and routes their subnets, and holds --vip, the address the cluster's
nodes route remote subnets to.

Options:
  --broker-info FILE       broker-info.subm whose token may write Clusters/Endpoints (a member token)
  --clusterid ID           this cluster's ID
  --cluster-cidr CIDR      pod CIDR (repeatable)
  --service-cidr CIDR      service CIDR (repeatable)
  --kubeconfig FILE        credentials for this cluster's API (default: in-cluster service account)
  --private-ip IP          address other gateways reach this node at (default: source of the default route)
  --public-ip IP           address other gateways reach this node at when it is behind NAT
  --port N                 WireGuard UDP port (default 4500)
  --health-check-ip IP     address remote gateways ping (default: this node's address inside a cluster CIDR)
  --vip CIDR               floating address of the active gateway, e.g. 10.99.10.10/24
  --vip-interface DEV      device that carries --vip
  --interface NAME         WireGuard interface (default submariner)
  --hostname NAME          host name in the Endpoint (default: this host's name)
  --lease-namespace NS     namespace of the leader Lease (default moor-system)
  --lease-name NAME        Lease name (default moor-gateway-lock)
  --lease-duration S       seconds (default 15); --renew-deadline S (10); --retry-period S (2)
  --identity NAME          leader-election identity (default <hostname>-moor-gateway)
  --state-dir DIR          status and logs (default /var/lib/moor-gateway)
  --wireguard-driver NAME  kernel or wireguard-go (default: kernel when available)
  --check-broker-certificate=true|false
  --metrics-address H:P    Prometheus /metrics (default 127.0.0.1:9477; "off" disables); a passive
                           gateway reports moor_gateway_active 0 and nothing else
`;

export async function runGateway(args: string[]): Promise<number> {
  const p = parseCommandArgs(
    'gateway',
    args,
    {
      'broker-info': { type: 'string' },
      clusterid: { type: 'string' },
      'cluster-cidr': { type: 'string', multiple: true },
      'service-cidr': { type: 'string', multiple: true },
      kubeconfig: { type: 'string' },
      'private-ip': { type: 'string' },
      'public-ip': { type: 'string' },
      port: { type: 'string' },
      'health-check-ip': { type: 'string' },
      vip: { type: 'string' },
      'vip-interface': { type: 'string' },
      interface: { type: 'string' },
      hostname: { type: 'string' },
      'lease-namespace': { type: 'string' },
      'lease-name': { type: 'string' },
      'lease-duration': { type: 'string' },
      'renew-deadline': { type: 'string' },
      'retry-period': { type: 'string' },
      identity: { type: 'string' },
      'state-dir': { type: 'string' },
      'wireguard-driver': { type: 'string' },
      resync: { type: 'string' },
      'check-broker-certificate': { type: 'string' },
      'metrics-address': { type: 'string' },
    },
    0,
  );
  if (boolOption(p, 'help')) {
    process.stdout.write(GATEWAY_HELP);
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
  for (const c of clusterCidrs) parseUnicastCidrOption('--cluster-cidr', c);
  for (const c of serviceCidrs) parseUnicastCidrOption('--service-cidr', c);
  for (const name of ['private-ip', 'public-ip', 'health-check-ip']) {
    const value = stringOption(p, name);
    if (value !== undefined) parseUnicastAddressOption(`--${name}`, value);
  }
  const vip = stringOption(p, 'vip');
  const vipDev = stringOption(p, 'vip-interface');
  if (vip !== undefined) parseVipOption(vip);
  if ((vip === undefined) !== (vipDev === undefined)) {
    throw new MoorError('invalid-argument', 'gateway: --vip and --vip-interface go together', {
      hint: 'give both (the floating address and the device that carries it), or neither',
    });
  }
  const driver = stringOption(p, 'wireguard-driver');
  if (driver !== undefined && driver !== 'kernel' && driver !== 'wireguard-go') {
    throw new MoorError('invalid-argument', `--wireguard-driver ${driver} is not supported`, {
      hint: 'use kernel or wireguard-go',
    });
  }

  const runner = new ExecRunner();
  const info = decodeBrokerInfo(readFileSync(infoPath));
  const insecure = !boolStringOption(p, 'check-broker-certificate', true);
  const broker = new KubeRestClient({
    server: brokerServerUrl(info.brokerURL),
    token: info.token,
    insecure,
    ...(info.caCrt ? { caPem: info.caCrt } : {}),
  });
  const kubeconfig = stringOption(p, 'kubeconfig');
  const cluster = new KubeRestClient(kubeconfig ? loadKubeconfig(kubeconfig) : inClusterConfig());
  const privateIp = stringOption(p, 'private-ip') ?? (await detectPrivateIp(runner));
  parseUnicastAddressOption('the private IP', privateIp);
  let healthCheckIp = stringOption(p, 'health-check-ip');
  if (!healthCheckIp) {
    const inside = (await localAddresses(runner)).find((a) =>
      clusterCidrs.some((c) => contains(parseCidr(c), parseIpv4(a.address))),
    );
    healthCheckIp = inside?.address;
  }
  const dir = stringOption(p, 'state-dir') ?? '/var/lib/moor-gateway';
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
      port: intOption(p, 'port', 4500, 1, 65535),
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
      durationS: intOption(p, 'lease-duration', 15, 1, 3600),
      renewDeadlineS: intOption(p, 'renew-deadline', 10, 1, 3600),
      retryPeriodS: intOption(p, 'retry-period', 2, 1, 3600),
      ...(identityOpt ? { identity: identityOpt } : {}),
    },
    stateDir: dir,
    runner,
    log,
    resyncMs: intOption(p, 'resync', 30, 1, 3600) * 1000,
    ...(driver ? { driver } : {}),
    onFatal: (reason) => {
      log(`fatal: ${reason}`);
      exitCode = 1;
      finish();
    },
  });
  const metricsAt = stringOption(p, 'metrics-address') ?? '127.0.0.1:9477';
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

/** --vip is an interface address with its prefix (10.99.10.10/24); the address must be unicast. */
function parseVipOption(text: string): void {
  const parsed = tryParseAddressInCidr(text);
  if (!parsed.ok) {
    throw new MoorError('invalid-argument', `--vip ${parsed.error}`, {
      hint: 'give the floating address with its prefix, e.g. --vip 10.99.10.10/24',
    });
  }
  parseUnicastAddressOption('--vip', text.slice(0, text.indexOf('/')));
}
