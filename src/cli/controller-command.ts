// `moor controller`: the egress controller, leader elected on a Lease. A replica that loses the
// lease exits so its supervisor restarts it as a standby; two leaders for a moment would only
// write the same deterministic result twice.
import { hostname } from 'node:os';
import { EgressController } from '../controller/controller.ts';
import { inClusterConfig, loadKubeconfig } from '../k8s/kubeconfig.ts';
import { LeaderElector } from '../k8s/leaderElection.ts';
import { KubeRestClient } from '../k8s/rest.ts';
import { boolOption, intOption, parseCommand, stringOption } from './args.ts';
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
  const elector = new LeaderElector({
    client,
    namespace: stringOption(p, 'lease-namespace') ?? 'moor-egress',
    name: 'moor-egress-controller',
    identity,
    leaseDurationS: 15,
    renewDeadlineS: 10,
    retryPeriodS: 2,
    onStartedLeading: () => {
      leading = true;
      log(`controller: leading as ${identity}`);
      controller.start();
    },
    onStoppedLeading: () => {
      if (!leading) return;
      log('controller: lost the lease; exiting so a standby takes over');
      exitCode = 1;
      finish();
    },
    log,
  });
  elector.start();
  process.once('SIGTERM', () => finish());
  process.once('SIGINT', () => finish());
  await finished;
  await controller.stop();
  await elector.stop();
  client.close();
  return exitCode;
}
