// `moor gateway`: run the cluster end of the cables on a gateway node.
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { ensureStateDir } from '../agent/state.ts';
import { detectPrivateIp, localAddresses } from '../agent/underlay.ts';
import { brokerServerUrl, decodeBrokerInfo } from '../broker/brokerInfo.ts';
import { assertValidClusterId } from '../broker/names.ts';
import { AddressHolder, arpingAnnouncer } from '../dataplane/address-holder.ts';
import { ExecRunner } from '../dataplane/exec.ts';
import { IpRouteNetlink } from '../dataplane/netlink/iproute.ts';
import { MoorError } from '../errors.ts';
import { GatewayService } from '../gateway/gateway.ts';
import { monotonicClock } from '../ha/clock.ts';
import { renderHaMetrics } from '../ha/metrics.ts';
import { type HaTimings, PRODUCTION_TIMINGS, validateTimings } from '../ha/timings.ts';
import { inClusterConfig, loadKubeconfig } from '../k8s/kubeconfig.ts';
import { KubeRestClient } from '../k8s/rest.ts';
import { cidrLast, contains, formatIpv4, parseCidr, parseIpv4, tryParseAddressInCidr } from '../net/ipv4.ts';
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
  --lease-duration T       what a standby without heartbeats waits (default 15s)
  --renew-deadline T       the active gateway drops the floating address when it has not renewed
                           the Lease for this long (default 600ms)
  --retry-period T         the active gateway renews the Lease this often (default 200ms)
                           (T: 600ms, 2s or a bare number of seconds)
  --heartbeat-key-file F   the group's shared secret (the moor-gateway-heartbeat Secret, >= 16
                           bytes): gateways exchange authenticated UDP heartbeats every 100 ms
                           and a standby takes over about 0.5 s after the active one dies;
                           without it a standby waits --lease-duration
  --heartbeat-port N       UDP port of the heartbeats (default 4790)
  --heartbeat-peer IP      where to send heartbeats (repeatable; default the broadcast address
                           of --vip's subnet on --vip-interface)
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
      'heartbeat-key-file': { type: 'string' },
      'heartbeat-port': { type: 'string' },
      'heartbeat-peer': { type: 'string', multiple: true },
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
  for (const c of [...clusterCidrs, ...serviceCidrs]) parseCidr(c);
  const vip = stringOption(p, 'vip');
  const vipDev = stringOption(p, 'vip-interface');
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
    addresses: new AddressHolder(new IpRouteNetlink(runner), arpingAnnouncer(runner, log)),
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
              port: intOption(p, 'heartbeat-port', 4790, 1, 65535),
              destinations: peers,
            },
          }
        : {}),
    },
    stateDir: dir,
    runner,
    log,
    resyncMs: intOption(p, 'resync', 30, 1, 3600) * 1000,
    ...(driver ? { driver } : {}),
  });
  const metricsAt = stringOption(p, 'metrics-address') ?? '127.0.0.1:9477';
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
}

/** A duration: "600ms", "2s", "1.5s", or a bare number of seconds (the older form). */
function durationOption(p: Parameters<typeof stringOption>[0], name: string, fallbackMs: number): number {
  const v = stringOption(p, name);
  if (v === undefined) return fallbackMs;
  const m = /^(\d+(?:\.\d+)?)(ms|s)?$/.exec(v);
  const ms = m ? Number(m[1]) * (m[2] === 'ms' ? 1 : 1000) : Number.NaN;
  if (!Number.isFinite(ms) || ms <= 0 || ms > 3_600_000)
    throw new MoorError('invalid-argument', `--${name} ${v} is not a duration`, {
      hint: `write --${name} 600ms or --${name} 2s`,
    });
  return Math.round(ms);
}

function haTimings(p: Parameters<typeof stringOption>[0]): HaTimings {
  const renewDeadlineMs = durationOption(p, 'renew-deadline', PRODUCTION_TIMINGS.renewDeadlineMs);
  const renewIntervalMs = durationOption(p, 'retry-period', PRODUCTION_TIMINGS.renewIntervalMs);
  return validateTimings({
    ...PRODUCTION_TIMINGS,
    leaseDurationMs: durationOption(p, 'lease-duration', PRODUCTION_TIMINGS.leaseDurationMs),
    renewDeadlineMs,
    renewIntervalMs,
    // Room for one more attempt before the deadline (validateTimings checks the relation).
    requestTimeoutMs: Math.max(100, renewDeadlineMs - renewIntervalMs - 50),
    releaseBudgetMs: Math.min(PRODUCTION_TIMINGS.releaseBudgetMs, Math.floor(renewDeadlineMs / 4)),
  });
}

function readHeartbeatSecret(path: string): Buffer {
  let secret: Buffer;
  try {
    secret = readFileSync(path);
  } catch (err) {
    throw new MoorError('invalid-input', `cannot read the heartbeat key ${path}: ${(err as Error).message}`, {
      hint: 'mount the moor-gateway-heartbeat Secret there (see k8s/gateway/gateway.yaml)',
    });
  }
  if (secret.length < 16)
    throw new MoorError(
      'invalid-input',
      `the heartbeat key ${path} has ${secret.length} bytes, fewer than 16`,
      {
        hint: 'create it with: kubectl -n moor-system create secret generic moor-gateway-heartbeat --from-literal=key=$(head -c 32 /dev/urandom | base64)',
      },
    );
  return secret;
}
