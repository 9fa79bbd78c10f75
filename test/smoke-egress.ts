// The egress part of the smoke demo, on the same harness as test/e2e/egress-datapath.test.ts: a
// simulated cluster whose CNI masquerades pod traffic to the node IP, `moor controller`, two
// `moor egress-gateway` nodes (one HA group) and `moor node-agent` on the workers. A policy
// selects pod pay-1; fw, outside the cluster, prints the source address of each connection it
// gets: pay-1 arrives from its egress IP, the unselected pod web-1 from its node. Then the
// active egress gateway node is killed hard and pay-1 arrives from the same egress IP again.
// On the way, `moor acl export` and `moor acl who` show the mapping the controller wrote, the
// controller's in-cluster DNS answers `dig -x EGRESS_IP` with the workload's name, and a firewall
// follower's ServiceAccount token reads `/v1/egress-map` (a wrong token gets 401).
// Inbound (spec.ingress): fw connects to the egress IP on TCP 8080 and reaches pay-1, before and
// after the kill.
import { join } from 'node:path';
import { digQuery } from './harness/dig.ts';
import { createNamespace, egressObjects } from './harness/egress-cluster.ts';
import { probeTcp, startInboundServer } from './harness/egress-inbound.ts';
import { egressMapGet } from './harness/egress-map.ts';
import { EAST_GATEWAY_SPEC, egressStack, fwDelta } from './harness/egress-stack.ts';
import { buildEgressCluster, type EgressCluster, FW, NODES } from './harness/egress-topology.ts';
import { createObjects, readYamlDocuments, serviceAccountWithRole } from './harness/kube.ts';
import { moor } from './harness/moor.ts';
import { waitFor } from './harness/process.ts';
import type { TestRun } from './harness/run.ts';
import type { Host } from './harness/topology.ts';
import { bridgeToNamespace } from './harness/unix-bridge.ts';

// The egress cluster's Submariner cluster ID: the `<cluster>` of its egress DNS names.
const CLUSTER_ID = 'demo';
const DNS = { address: '127.0.0.1', port: 5353 };
const EGRESS_MAP_PORT = 8480;
/** The controller's Prometheus metrics (--metrics-address). */
const METRICS_PORT = 9478;
const READER_ROLE = join(import.meta.dirname, '..', 'k8s', 'egress', 'egress-map-reader.yaml');

// fw's server: logs the address each connection comes from and tells the client.
const WHOAMI_SERVER = `require('node:net').createServer((s) => {
  console.log('fw: connection from ' + s.remoteAddress);
  s.end('fw saw you as ' + s.remoteAddress + '\\n');
  s.on('error', () => {});
}).listen(5000, '0.0.0.0', () => console.log('listening'));`;
const WHOAMI_CLIENT = `const s = require('node:net').connect(5000, '${FW}');
s.setTimeout(2000, () => process.exit(1));
s.on('data', (d) => process.stdout.write(d));
s.on('error', () => process.exit(1));`;

export async function egressDemo(run: TestRun): Promise<void> {
  const c = await buildEgressCluster(run, 'masquerade');
  const stack = egressStack(run, c);
  const eg = egressObjects(c.kc);
  await eg.createGateway('east', EAST_GATEWAY_SPEC);
  await eg.createPolicy('pay', {
    podSelector: { matchLabels: { app: 'pay' } },
    destinations: [{ cidr: '10.99.50.0/24' }],
    gateway: 'east',
    ingress: { ports: [{ port: 8080 }] },
  });
  const pay = await c.addPod('pay-1', 'w1', '10.1.3.5', { app: 'pay' });
  const web = await c.addPod('web-1', 'w1', '10.1.3.6', { app: 'web' });
  const inbound = await startInboundServer(pay, 'pay-1', 8080, 7000);
  stack.startController([
    '--dns-listen',
    `${DNS.address}:${DNS.port}`,
    '--cluster-id',
    CLUSTER_ID,
    // Plain HTTP: loopback only (the controller refuses it anywhere else).
    '--egress-map-listen',
    `127.0.0.1:${EGRESS_MAP_PORT}`,
    '--metrics-address',
    `127.0.0.1:${METRICS_PORT}`,
  ]);
  stack.startGateway('gw1');
  stack.startGateway('gw2');
  stack.startNodeAgent('w1');
  stack.startNodeAgent('w2');
  console.log(
    `\negress cluster (run ${run.id}, cluster ID ${CLUSTER_ID}): CNI masquerades pods to their node; EgressGateway "east" on gw1+gw2, ` +
      `pool ${EAST_GATEWAY_SPEC.pool.cidrs.join()}; EgressPolicy "pay" selects app=pay for ${FW}`,
  );
  const egressIp = await waitFor(
    'policy pay allocated and a gateway active',
    async () => {
      for (const p of stack.procs.values())
        if (!p.running) throw new Error(`${p.name} exited:\n${p.tail(20)}`);
      const [p, g] = await Promise.all([eg.policy('pay'), eg.gateway('east')]);
      return g.status?.activeNode ? p.status?.ips?.[0] : undefined;
    },
    { timeoutMs: 60_000 },
  );
  const server = c.topo.host('fw').spawn('whoami', [process.execPath, '-e', WHOAMI_SERVER]);
  await waitFor('fw server', () => (server.log().includes('listening') ? true : undefined));
  const connect = async (pod: Host) =>
    (await pod.exec([process.execPath, '-e', WHOAMI_CLIENT], { allowFail: true })).stdout.trim();
  await waitFor(`pay-1 leaves from ${egressIp}`, async () =>
    (await connect(pay)).endsWith(` ${egressIp}`) ? true : undefined,
  );
  console.log(`pay-1 (pod 10.1.3.5 on w1 ${NODES.w1}) → fw ${FW}:5000: ${await connect(pay)}`);
  console.log(`web-1 (pod 10.1.3.6 on w1, not selected) → fw: ${await connect(web)}`);
  const fw = c.topo.host('fw');
  const inboundAnswer = async () => {
    const a = (await probeTcp(fw, egressIp, 8080)).split(' ');
    return a.length === 3
      ? `connected to ${a[0]}, answered by ${a[1]}, which saw fw as ${a[2]}`
      : a.join(' ');
  };
  await waitFor(`fw reaches pay-1 via ${egressIp}:8080`, async () =>
    (await inboundAnswer()).includes('pay-1') ? true : undefined,
  );
  console.log(`fw → ${egressIp}:8080 (inbound, spec.ingress): ${await inboundAnswer()}`);
  const api = c.topo.host('api');
  const status = await moor(api, ['egress', 'status', '--kubeconfig', c.kubeconfigPath]);
  console.log(`\n$ moor egress status\n${status.stdout}${status.stderr}`);
  // The ACL mapping the controller wrote (in the same pass as the status above).
  for (const args of [
    ['acl', 'export', '-o', 'csv'],
    ['acl', 'who', egressIp ?? ''],
  ]) {
    const r = await moor(api, [...args, '--kubeconfig', c.kubeconfigPath]);
    console.log(`$ moor ${args.join(' ')}\n${r.stdout}${r.stderr}`);
  }
  const servedAgain = await servedMapping(run, c, egressIp ?? '');

  // Hard kill of the active egress gateway node: every moor process SIGKILLed, its LAN link deleted.
  const active = (await eg.gateway('east')).status?.activeNode as 'gw1' | 'gw2';
  const standby = active === 'gw1' ? 'gw2' : 'gw1';
  let lost = 0;
  const seen = await fwDelta(c, async () => {
    const flood = pay.exec(['ping', '-n', '-q', '-c', '100', '-i', '0.1', FW], { allowFail: true });
    await new Promise((r) => setTimeout(r, 1000));
    await stack.procs.get(active)?.kill();
    await c.topo.host(active).exec(['ip', 'link', 'del', 'lan0']);
    await waitFor(`${standby} active`, async () =>
      (await eg.gateway('east')).status?.activeNode === standby ? true : undefined,
    );
    lost = 100 - Number(/(\d+) received/.exec((await flood).stdout)?.[1] ?? 0);
  });
  console.log(
    `egress gateway ${active} killed: ${standby} is active; pay-1 pinging fw at 10/s lost ${lost} of 100; ` +
      `sources fw saw meanwhile: ${[...seen].map(([ip, n]) => `${ip} (${n} packets)`).join(', ')}`,
  );
  console.log(`pay-1 → fw after the failover: ${await connect(pay)}`);
  console.log(`fw → ${egressIp}:8080 after the failover: ${await inboundAnswer()}`);
  console.log(`readers after the failover: ${await servedAgain()}`);
  const log = server
    .log()
    .split('\n')
    .filter((l) => l.startsWith('fw:'));
  console.log(`fw's own log (every connection it got):\n${log.join('\n')}`);
  await server.stop();
  await inbound.stop();
}

// What the controller serves from the mapping, on the API host: in-cluster DNS (the workload's
// name for the egress IP, and back) and `/v1/egress-map` for a token bound to the reader role.
// Returns a check to run again later: what a reader sees after the failover.
async function servedMapping(
  run: TestRun,
  c: EgressCluster,
  egressIp: string,
): Promise<() => Promise<string>> {
  const api = c.topo.host('api');
  const dig = async (query: string[]) => {
    const a = await digQuery((argv) => api.exec(argv, { allowFail: true }), DNS, query);
    return a.records.map((r) => r.data);
  };
  const [name] = await waitFor(`dig -x ${egressIp} names pay-1`, async () => {
    const names = await dig(['-x', egressIp]);
    return names.length > 0 ? names : undefined;
  });
  const at = `@${DNS.address} -p ${DNS.port}`;
  console.log(`$ dig -x ${egressIp} ${at} +short   (moor controller --dns-listen)\n${name}`);
  console.log(`$ dig ${name} ${at} +short\n${(await dig([name ?? '', 'A'])).join('\n')}\n`);

  await createObjects(c.kc, readYamlDocuments(READER_ROLE));
  await createNamespace(c.kc, 'firewall-automation');
  const token = await serviceAccountWithRole(
    c.kc,
    'firewall-automation',
    'egress-map-follower',
    'moor-egress-map-reader',
    'ClusterRole',
  );
  const endpoint = {
    port: (await bridgeToNamespace(run, api, '127.0.0.1', EGRESS_MAP_PORT)).port,
    tls: false,
  };
  const get = (o: { token: string; etag?: string }) => egressMapGet(endpoint, '/v1/egress-map', o);
  const map = await waitFor('/v1/egress-map answers 200', async () => {
    const a = await get({ token }).catch(() => undefined);
    return a?.status === 200 ? a : undefined;
  });
  const etag = String(map.headers.etag);
  const body = map.body.trim();
  const wrong = await get({ token: 'not-a-token' });
  console.log(
    '# TOKEN: TokenRequest for ServiceAccount firewall-automation/egress-map-follower, bound to ClusterRole moor-egress-map-reader\n' +
      `$ curl -H "Authorization: Bearer $TOKEN" http://127.0.0.1:${EGRESS_MAP_PORT}/v1/egress-map\n` +
      `${map.status}, ETag ${etag}: ${body.length > 240 ? `${body.slice(0, 240)}…` : body}\n` +
      `again with If-None-Match: ${etag}: ${(await get({ token, etag })).status}; ` +
      `with a wrong token: ${wrong.status} (WWW-Authenticate: ${wrong.headers['www-authenticate']})\n`,
  );
  const metricsPort = (await bridgeToNamespace(run, api, '127.0.0.1', METRICS_PORT)).port;
  const metrics = await egressMapGet({ port: metricsPort, tls: false }, '/metrics');
  const shown = metrics.body
    .split('\n')
    .filter((l) => /^moor_(egress_map_requests_total\{|egress_map_stale |ha_leader )/.test(l));
  console.log(
    `$ curl http://127.0.0.1:${METRICS_PORT}/metrics | grep -E '^moor_(egress_map_requests_total\\{|egress_map_stale |ha_leader )'\n${shown.join('\n')}\n`,
  );
  return async () => {
    const now = await get({ token, etag });
    return `dig -x ${egressIp}: ${(await dig(['-x', egressIp])).join(' ')}; /v1/egress-map with If-None-Match: ${now.status}`;
  };
}
