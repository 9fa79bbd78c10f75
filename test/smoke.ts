// The smoke topology: a broker API server with the Submariner CRDs and RBAC, and two hosts joined
// by a wireguard-go tunnel. It prints what it built, proves a ping crosses the tunnel, and
// removes everything. `MOOR_SMOKE_HOLD=1` keeps it up until Ctrl-C, to poke at it by hand.
import { CustomObjectsApi } from '@kubernetes/client-node';
import { startApiServer, startEtcd } from './harness/apiserver.ts';
import { deployBroker } from './harness/broker.ts';
import { waitFor } from './harness/process.ts';
import { TestRun } from './harness/run.ts';
import { buildTopology } from './harness/topology.ts';
import { addWgPeer, startWireGuardGo } from './harness/wireguard.ts';

const run = TestRun.start();
try {
  const t0 = Date.now();
  const topo = await buildTopology(run, {
    hosts: { broker: {}, wan: { forwarding: true }, left: {}, right: {} },
    links: [
      { a: { host: 'broker', address: '10.99.0.2/24' }, b: { host: 'wan', address: '10.99.0.1/24' } },
      { a: { host: 'left', address: '10.99.1.2/24' }, b: { host: 'wan', address: '10.99.1.1/24' } },
      { a: { host: 'right', address: '10.99.2.2/24' }, b: { host: 'wan', address: '10.99.2.1/24' } },
    ],
    routes: [
      { host: 'broker', to: 'default', via: '10.99.0.1' },
      { host: 'left', to: 'default', via: '10.99.1.1' },
      { host: 'right', to: 'default', via: '10.99.2.1' },
    ],
  });
  const etcd = await startEtcd(run, topo.host('broker'));
  const api = await startApiServer(run, {
    name: 'broker',
    host: topo.host('broker'),
    etcd,
    address: '10.99.0.2',
  });
  const broker = await deployBroker(api.kubeConfig());
  const clusters = await api.kubeConfig().makeApiClient(CustomObjectsApi).listNamespacedCustomObject({
    group: 'submariner.io',
    version: 'v1',
    namespace: broker.namespace,
    plural: 'clusters',
  });
  console.log(`run ${run.id}: namespaces ${[...topo.hosts.values()].map((h) => h.ns).join(', ')}`);
  console.log(
    `broker API ${api.url} (test runner: ${api.localUrl}), namespace ${broker.namespace}, ${(clusters as { items: unknown[] }).items.length} clusters`,
  );

  const left = topo.host('left');
  const right = topo.host('right');
  const wl = await startWireGuardGo(run, left, '10.200.0.1/24', 4500);
  const wr = await startWireGuardGo(run, right, '10.200.0.2/24', 4500);
  await addWgPeer(left, wl, {
    publicKey: wr.keys.publicKey,
    endpoint: '10.99.2.2:4500',
    allowedIps: ['10.200.0.2/32'],
  });
  await addWgPeer(right, wr, {
    publicKey: wl.keys.publicKey,
    endpoint: '10.99.1.2:4500',
    allowedIps: ['10.200.0.1/32'],
  });
  await waitFor('ping over WireGuard', async () => ((await left.ping('10.200.0.2', 1)) ? true : undefined));
  console.log(
    `wireguard-go ${wl.name} (left) <-> ${wr.name} (right): ping ok; ready in ${Date.now() - t0} ms`,
  );
  if (process.env.MOOR_SMOKE_HOLD) {
    console.log('holding; press Ctrl-C to tear down');
    await new Promise(() => undefined);
  }
} finally {
  await run.cleanup();
  console.log('cleaned up');
}
