// The smoke topology, a local demo of moor on real parts: a broker API server, two simulated
// clusters whose gateway nodes run `moor gateway` (active/passive), and host vm1 behind NAT that
// runs `moor join` and `moor agent`. It prints what it built and what `moor show connections`
// reports, proves the host and the pods reach each other, shows a hostile member's Endpoint
// rejected without harm, kills the active east gateway node and shows the standby take over,
// and removes everything. Then it builds a second topology for static egress IPs
// (test/smoke-egress.ts) and removes that too.
// `MOOR_SMOKE_HOLD=1` keeps the clusterset up until Ctrl-C, `MOOR_SMOKE_HOLD=egress` the egress
// cluster, to poke at it by hand.
import { buildClusterset, joinVm1, startAllGateways } from './harness/clusterset.ts';
import { killGatewayNode, vipHolders } from './harness/gateway-ha.ts';
import { hostileMember } from './harness/hostile.ts';
import { lighthouseExport } from './harness/lighthouse.ts';
import { moor } from './harness/moor.ts';
import { PingWatch } from './harness/ping-watch.ts';
import { waitFor } from './harness/process.ts';
import { TestRun } from './harness/run.ts';
import { egressDemo } from './smoke-egress.ts';

const hold = () => new Promise(() => undefined);

const run = TestRun.start();
try {
  const t0 = Date.now();
  const cs = await buildClusterset(run);
  startAllGateways(run, cs);
  console.log(
    `run ${run.id}: broker API ${cs.api.url}; clusters east (10.10.0.0/16) and west (10.20.0.0/16)`,
  );
  const vm1 = cs.topo.host('vm1');
  const { stateDir, address } = await joinVm1(run, cs, []);
  console.log(`vm1 joined as cluster "vm1" with clusterset address ${address}`);
  for (const c of Object.values(cs.clusters)) {
    await waitFor(`vm1 → ${c.id} pod`, async () => ((await vm1.ping(c.podAddress, 1)) ? true : undefined), {
      timeoutMs: 60_000,
    });
    await waitFor(`${c.id} pod → vm1`, async () =>
      (await cs.topo.host(c.pod).ping(address, 1)) ? true : undefined,
    );
    console.log(`vm1 (${address}) <-> ${c.id} pod ${c.podAddress}: ping ok`);
  }
  await waitFor('connections reported', async () => {
    const r = await moor(vm1, ['show', 'connections', '-o', 'json', '--state-dir', stateDir]);
    return r.code === 0 &&
      (JSON.parse(r.stdout) as Array<{ status: string }>).filter((c) => c.status === 'connected').length === 2
      ? true
      : undefined;
  });
  console.log(
    `\n$ moor show connections\n${(await moor(vm1, ['show', 'connections', '--state-dir', stateDir])).stdout}`,
  );
  // Clusterset DNS: services exported by east and west exactly as their Lighthouse agents write
  // them to the broker; the agent on vm1 answers as Lighthouse does in a cluster.
  const kc = cs.api.kubeConfig();
  const ns = cs.broker.namespace;
  await lighthouseExport(kc, ns, 'east', { name: 'nginx', namespace: 'web' }, { address: '10.110.0.10' });
  await lighthouseExport(kc, ns, 'west', { name: 'nginx', namespace: 'web' }, { address: '10.120.0.10' });
  const db = [
    { address: '10.10.5.1', hostname: 'db-0' },
    { address: '10.10.5.2', hostname: 'db-1' },
  ];
  await lighthouseExport(kc, ns, 'east', { name: 'db', namespace: 'data' }, { headless: db });
  const dig = async (name: string) =>
    (
      await vm1.exec(['dig', `@${address}`, name, '+short', '+tries=1', '+time=2'], { allowFail: true })
    ).stdout
      .trim()
      .split('\n')
      .filter(Boolean);
  const nginx = new Set<string>();
  await waitFor('nginx answered from both clusters', async () => {
    for (const a of await dig('nginx.web.svc.clusterset.local')) nginx.add(a);
    return nginx.size === 2 ? true : undefined;
  });
  console.log(
    `$ dig @${address} +short nginx.web.svc.clusterset.local   (repeated: round-robin over both clusters)\n${[...nginx].sort().join('\n')}`,
  );
  const heads = await waitFor('headless db answered', async () => {
    const a = await dig('db.data.svc.clusterset.local');
    return a.length === 2 ? a.sort() : undefined;
  });
  console.log(`$ dig @${address} +short db.data.svc.clusterset.local   (headless)\n${heads.join('\n')}`);
  console.log(
    `$ dig @${address} +short db-0.east.db.data.svc.clusterset.local\n${(await dig('db-0.east.db.data.svc.clusterset.local')).join('\n')}\n`,
  );
  // A hostile member (its own member credential) claims the broker API server's address, which
  // would pull the agent's broker traffic into its tunnel: rejected, reported, nothing cut.
  const brokerIp = new URL(cs.api.url).hostname;
  const evil = await hostileMember(cs, 'evil');
  await evil.publish('evil-claims-broker', { subnets: [`${brokerIp}/32`] });
  const rejected = await waitFor('the hostile Endpoint rejected', async () => {
    const r = await moor(vm1, ['status', '-o', 'json', '--state-dir', stateDir]);
    const s = JSON.parse(r.stdout) as { rejected: Array<{ endpointName: string; reason: string }> };
    return s.rejected.find((x) => x.endpointName === 'evil-claims-broker');
  });
  console.log(`hostile member "evil" claims ${brokerIp}/32, rejected: ${rejected.reason}`);
  for (const c of Object.values(cs.clusters)) {
    if (!(await vm1.ping(c.podAddress, 1))) throw new Error(`the hostile Endpoint cut vm1 → ${c.id}`);
  }
  await evil.remove('evil-claims-broker');
  console.log('vm1 still reaches both pods; the hostile Endpoint is removed again');
  // Gateway HA: the active east gateway node dies (every process SIGKILLed, every link deleted)
  // while the east pod pings vm1 at 100/s; the standby takes the floating address over.
  const east = cs.clusters.east;
  const [active] = await vipHolders(cs, east);
  const standby = east.gateways.find((g) => g !== active) ?? '';
  const ping = PingWatch.start(run, cs.topo.host(east.pod), address, { intervalS: 0.01 });
  await ping.firstReplyAfter(Date.now(), 30_000);
  const diedAt = await killGatewayNode(cs, active ?? '');
  const heldAt = await waitFor(`${standby} holds ${east.vip}`, async () =>
    (await vipHolders(cs, east)).join() === standby ? Date.now() : undefined,
  );
  const back = await ping.firstReplyAfter(heldAt, 30_000);
  ping.stop();
  console.log(
    `east gateway node ${active} killed: ${standby} took ${east.vip} over, pod → vm1 answered again ${back - diedAt} ms after the kill`,
  );
  console.log(`clusterset part done in ${Date.now() - t0} ms`);
  if (process.env.MOOR_SMOKE_HOLD === '1') {
    console.log(`holding; namespaces moor-${run.id}-*; state ${stateDir}; press Ctrl-C to tear down`);
    await hold();
  }
} finally {
  await run.cleanup();
  console.log('cleaned up');
}

// Static egress IPs, on their own topology once the clusterset is gone (both use 10.99.10.0/24).
const egressRun = TestRun.start();
try {
  const t0 = Date.now();
  await egressDemo(egressRun);
  console.log(`egress part done in ${Date.now() - t0} ms`);
  if (process.env.MOOR_SMOKE_HOLD === 'egress') {
    console.log(`holding; namespaces moor-${egressRun.id}-*; press Ctrl-C to tear down`);
    await hold();
  }
} finally {
  await egressRun.cleanup();
  console.log('cleaned up');
}
