// `moor node-agent` and `moor egress-gateway`: wiring of the daemons to the real ports.
import {
  ArpingAnnouncer,
  ExecRunner,
  IpEgressLinks,
  IpRouteNetlink,
  NftCli,
  ProcSysctl,
} from '../dataplane/index.ts';
import { EgressGatewayRole } from '../egress-gateway/egress-gateway.ts';
import { MoorError } from '../errors.ts';
import { EGRESS_TIMINGS, validateTimings } from '../ha/timings.ts';
import { readInputFile } from '../inputFile.ts';
import { inClusterConfig, loadKubeconfig } from '../k8s/kubeconfig.ts';
import { KubeRestClient } from '../k8s/rest.ts';
import { parseCidr } from '../net/ipv4.ts';
import { NodeAgent } from '../node-agent/node-agent.ts';
import { boolOption, intOption, listOption, parseCommand, stringOption } from './args.ts';
import { renderHelp } from './spec/help.ts';
import { EGRESS_GATEWAY_SPEC, NODE_AGENT_SPEC } from './specs/egress-daemons.ts';

const log = (line: string) => process.stderr.write(`${new Date().toISOString()} ${line}\n`);

function required(command: string, value: string | undefined, name: string, hint: string): string {
  if (!value) throw new MoorError('invalid-argument', `${command}: --${name} is required`, { hint });
  return value;
}

async function untilSignal(): Promise<void> {
  // Timers of the HA module and the loops are unref'd: this keeps the process alive.
  const keepAlive = setInterval(() => undefined, 1 << 30);
  await new Promise<void>((resolve) => {
    process.once('SIGTERM', () => resolve());
    process.once('SIGINT', () => resolve());
  });
  clearInterval(keepAlive);
}

export async function runNodeAgent(args: string[]): Promise<number> {
  const p = parseCommand(NODE_AGENT_SPEC, args);
  if (boolOption(p, 'help')) {
    process.stdout.write(renderHelp(['node-agent'], NODE_AGENT_SPEC));
    return 0;
  }
  const nodeName = required(
    'node-agent',
    stringOption(p, 'node-name'),
    'node-name',
    'set NODE_NAME from spec.nodeName',
  );
  const underlay = required(
    'node-agent',
    stringOption(p, 'underlay-interface'),
    'underlay-interface',
    'name the LAN device, e.g. eth0',
  );
  const clusterCidrs = listOption(p, 'cluster-cidr');
  if (clusterCidrs.length === 0)
    throw new MoorError('invalid-argument', 'node-agent: --cluster-cidr is required', {
      hint: 'give the pod and service CIDRs, e.g. --cluster-cidr 10.42.0.0/16 --cluster-cidr 10.43.0.0/16',
    });
  const podCidrs = listOption(p, 'pod-cidr');
  for (const c of [...clusterCidrs, ...podCidrs]) parseCidr(c, { allowHostBits: true });
  const kubeconfig = stringOption(p, 'kubeconfig');
  const client = new KubeRestClient(kubeconfig ? loadKubeconfig(kubeconfig) : inClusterConfig());
  const runner = new ExecRunner();
  const agent = new NodeAgent({
    client,
    config: { nodeName, underlayDevice: underlay, clusterCidrs, podCidrs },
    ports: {
      netlink: new IpRouteNetlink(runner),
      links: new IpEgressLinks(runner),
      nft: new NftCli(runner),
      sysctl: new ProcSysctl(),
    },
    resyncMs: intOption(p, 'resync') * 1000,
    log,
  });
  agent.start();
  log(`node-agent: started on node ${nodeName}`);
  await untilSignal();
  await agent.stop();
  client.close();
  return 0;
}

export async function runEgressGateway(args: string[]): Promise<number> {
  const p = parseCommand(EGRESS_GATEWAY_SPEC, args);
  if (boolOption(p, 'help')) {
    process.stdout.write(renderHelp(['egress-gateway'], EGRESS_GATEWAY_SPEC));
    return 0;
  }
  const nodeName = required(
    'egress-gateway',
    stringOption(p, 'node-name'),
    'node-name',
    'set NODE_NAME from spec.nodeName',
  );
  const keyFile = stringOption(p, 'heartbeat-key-file');
  const kubeconfig = stringOption(p, 'kubeconfig');
  const client = new KubeRestClient(kubeconfig ? loadKubeconfig(kubeconfig) : inClusterConfig());
  const runner = new ExecRunner();
  const role = new EgressGatewayRole({
    client,
    nodeName,
    identity: stringOption(p, 'identity') ?? nodeName,
    leaseNamespace: stringOption(p, 'lease-namespace') ?? 'moor-egress',
    timings: validateTimings({ ...EGRESS_TIMINGS, leaseDurationMs: intOption(p, 'lease-duration-ms') }),
    ...(keyFile
      ? { heartbeat: { secret: readHeartbeatKey(keyFile), port: intOption(p, 'heartbeat-port') } }
      : {}),
    ports: {
      netlink: new IpRouteNetlink(runner),
      links: new IpEgressLinks(runner),
      nft: new NftCli(runner),
      sysctl: new ProcSysctl(),
      arp: new ArpingAnnouncer(runner),
    },
    resyncMs: intOption(p, 'resync') * 1000,
    log,
  });
  role.start();
  log(`egress-gateway: started on node ${nodeName}`);
  await untilSignal();
  await role.stop();
  client.close();
  return 0;
}

const KEY_HINT =
  'create one with: kubectl -n moor-egress create secret generic moor-egress-heartbeat --from-literal=key="$(head -c 32 /dev/urandom | base64)" and mount it';

function readHeartbeatKey(path: string): Buffer {
  const secret = readInputFile(path, { what: 'heartbeat key file', maxBytes: 64 * 1024, hint: KEY_HINT });
  if (secret.length < 16)
    throw new MoorError(
      'invalid-input',
      `the heartbeat key file ${path} has ${secret.length} bytes, fewer than 16`,
      {
        hint: KEY_HINT,
      },
    );
  return secret;
}
