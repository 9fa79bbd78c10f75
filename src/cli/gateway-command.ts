// `moor gateway`: run the cluster end of the cables on a gateway node.
import { hostname } from 'node:os';
import { acquireStateDirLock } from '../agent/lock.ts';
import { ensureStateDir } from '../agent/state.ts';
import { detectPrivateIp, localAddresses } from '../agent/underlay.ts';
import { brokerServerUrl } from '../broker/brokerInfo.ts';
import { readBrokerInfoFile } from '../broker/brokerInfoFile.ts';
import { assertValidClusterId } from '../broker/names.ts';
import { AddressHolder, arpingAnnouncer } from '../dataplane/address-holder.ts';
import { ExecRunner } from '../dataplane/exec.ts';
import { IpRouteNetlink } from '../dataplane/netlink/iproute.ts';
import { MoorError } from '../errors.ts';
import { GatewayService } from '../gateway/gateway.ts';
import { monotonicClock } from '../ha/clock.ts';
import { renderHaMetrics } from '../ha/metrics.ts';
import { type HaTimings, timingsFor } from '../ha/timings.ts';
import { readInputFile } from '../inputFile.ts';
import { inClusterConfig, loadKubeconfig } from '../k8s/kubeconfig.ts';
import { KubeRestClient } from '../k8s/rest.ts';
import {
  cidrLast,
  contains,
  formatIpv4,
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
  const driver = enumOption(p, 'wireguard-driver') as 'kernel' | 'wireguard-go' | undefined;

  const timings = haTimings(p);
  const keyFile = stringOption(p, 'heartbeat-key-file');
  const heartbeatSecret = keyFile ? readHeartbeatSecret(keyFile) : undefined;
  let peers = listOption(p, 'heartbeat-peer');
  for (const peer of peers) parseIpv4(peer);
  if (peers.length === 0 && vip) {
    const parsed = tryParseAddressInCidr(vip);
    if (!parsed.ok)
      throw new MoorError('invalid-argument', `--vip ${parsed.error}`, { hint: 'e.g. --vip 10.99.10.10/24' });
    peers = [formatIpv4(cidrLast(parsed.value.cidr))];
  }
  if (heartbeatSecret && peers.length === 0)
    throw new MoorError('invalid-argument', 'gateway: heartbeats need --heartbeat-peer or --vip', {
      hint: 'give the other gateway nodes with --heartbeat-peer IP, or --vip so heartbeats go to its broadcast address',
    });

  const runner = new ExecRunner();
  const netlink = new IpRouteNetlink(runner);
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
  parseUnicastAddressOption('the private IP', privateIp);
  let healthCheckIp = stringOption(p, 'health-check-ip');
  if (!healthCheckIp) {
    const inside = (await localAddresses(runner)).find((a) =>
      clusterCidrs.some((c) => contains(parseCidr(c), parseIpv4(a.address))),
    );
    healthCheckIp = inside?.address;
  }
  const dir = stringOption(p, 'state-dir') ?? DEFAULT_GATEWAY_STATE_DIR;
  ensureStateDir(dir);
  // One gateway per state directory: a second would fight the first over the tunnel device,
  // the key and the floating address. Taken before anything is changed.
  const lock = acquireStateDirLock(dir, 'moor gateway');
  try {
    const log = (line: string) => process.stderr.write(`${new Date().toISOString()} ${line}\n`);
    if (!healthCheckIp) log('no local address inside the cluster CIDRs: publishing no healthCheckIP');

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
      addresses: new AddressHolder(netlink, arpingAnnouncer(runner, log)),
      links: netlink,
      ha: {
        namespace: stringOption(p, 'lease-namespace') ?? 'moor-system',
        name: stringOption(p, 'lease-name') ?? 'moor-gateway-lock',
        identity: identityOpt ?? `${hostname()}-moor-gateway`,
        timings,
        clock: monotonicClock,
        ...(heartbeatSecret
          ? {
              heartbeat: {
                secret: heartbeatSecret,
                port: intOption(p, 'heartbeat-port'),
                destinations: peers,
              },
            }
          : {}),
      },
      stateDir: dir,
      runner,
      log,
      resyncMs: intOption(p, 'resync') * 1000,
      ...(driver ? { driver } : {}),
    });
    const metricsAt = stringOption(p, 'metrics-address') ?? DEFAULT_GATEWAY_METRICS_ADDRESS;
    const metrics =
      metricsAt === 'off'
        ? undefined
        : await startMetricsServer(parseListenAddress(metricsAt, 'metrics-address'), () => {
            const st = service.status();
            const role = `# HELP moor_gateway_active 1 on the active gateway of the cluster.\n# TYPE moor_gateway_active gauge\nmoor_gateway_active ${st ? 1 : 0}\n`;
            const ha = service.ha();
            return role + (ha ? renderHaMetrics(ha) : '') + (st ? renderMetrics(st) : '');
          });
    await service.start();
    process.once('SIGTERM', () => finish());
    process.once('SIGINT', () => finish());
    await finished;
    metrics?.close();
    await service.stop();
    broker.close();
    cluster.close();
    return 0;
  } finally {
    lock.release();
  }
}

/** A duration: "600ms", "2s", "1.5s", or a bare number of seconds (the older form). */
function durationOption(p: Parameters<typeof stringOption>[0], name: string): number {
  const v = stringOption(p, name) ?? '';
  const m = /^(\d+(?:\.\d+)?)(ms|s)?$/.exec(v);
  const ms = m ? Number(m[1]) * (m[2] === 'ms' ? 1 : 1000) : Number.NaN;
  if (!Number.isFinite(ms) || ms <= 0 || ms > 3_600_000)
    throw new MoorError('invalid-argument', `--${name} ${v} is not a duration`, {
      hint: `write --${name} 600ms or --${name} 2s`,
    });
  return Math.round(ms);
}

function haTimings(p: Parameters<typeof stringOption>[0]): HaTimings {
  return timingsFor({
    leaseDurationMs: durationOption(p, 'lease-duration'),
    renewDeadlineMs: durationOption(p, 'renew-deadline'),
    renewIntervalMs: durationOption(p, 'retry-period'),
  });
}

const HEARTBEAT_KEY_HINT =
  'create it with: kubectl -n moor-system create secret generic moor-gateway-heartbeat --from-literal=key="$(head -c 32 /dev/urandom | base64)", and mount it (k8s/gateway/gateway.yaml)';

function readHeartbeatSecret(path: string): Buffer {
  const secret = readInputFile(path, {
    what: 'heartbeat key file',
    maxBytes: 64 * 1024,
    hint: HEARTBEAT_KEY_HINT,
  });
  if (secret.length < 16)
    throw new MoorError(
      'invalid-input',
      `the heartbeat key file ${path} has ${secret.length} bytes, fewer than 16`,
      {
        hint: HEARTBEAT_KEY_HINT,
      },
    );
  return secret;
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
