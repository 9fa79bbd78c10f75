// The single-cluster environment of test/e2e/host-join.test.ts: a broker API server, cluster
// "east" behind the Submariner-style oracle gateway (test/harness/submariner-gateway.ts) with a
// pod behind it, and host vm1 behind a NAT router, all in namespaces of one TestRun.
import { type ApiServer, startApiServer, startEtcd } from '../../test/harness/apiserver.ts';
import { type BrokerFixture, deployBroker, writeBrokerInfo } from '../../test/harness/broker.ts';
import { serviceAccountWithRole } from '../../test/harness/kube.ts';
import { TestRun } from '../../test/harness/run.ts';
import { SubmarinerGateway } from '../../test/harness/submariner-gateway.ts';
import { buildTopology, type Topology } from '../../test/harness/topology.ts';

export const POD = '10.10.1.2';
export const GATEWAY_IP = '10.99.1.2';
export const NAT_PUBLIC_IP = '10.99.3.2';

export interface OracleEnv {
  run: TestRun;
  topo: Topology;
  api: ApiServer;
  broker: BrokerFixture;
  east: SubmarinerGateway;
  /** broker-info with the broker admin token (join and leave use it, as subctl does). */
  brokerInfo: string;
  setupMs: number;
}

export async function buildOracleEnv(): Promise<OracleEnv> {
  const started = performance.now();
  const run = TestRun.start();
  try {
    const topo = await buildTopology(run, {
      hosts: {
        broker: {},
        wan: { forwarding: true },
        eastgw: { forwarding: true },
        eastpod: {},
        nat1: { forwarding: true },
        vm1: {},
      },
      links: [
        { a: { host: 'broker', address: '10.99.0.2/24' }, b: { host: 'wan', address: '10.99.0.1/24' } },
        { a: { host: 'eastgw', address: `${GATEWAY_IP}/24` }, b: { host: 'wan', address: '10.99.1.1/24' } },
        { a: { host: 'eastpod', address: `${POD}/24` }, b: { host: 'eastgw', address: '10.10.1.1/24' } },
        {
          a: { host: 'nat1', address: `${NAT_PUBLIC_IP}/24`, ifname: 'wan0' },
          b: { host: 'wan', address: '10.99.3.1/24' },
        },
        { a: { host: 'vm1', address: '192.168.77.2/24' }, b: { host: 'nat1', address: '192.168.77.1/24' } },
      ],
      routes: [
        { host: 'broker', to: 'default', via: '10.99.0.1' },
        { host: 'eastgw', to: 'default', via: '10.99.1.1' },
        { host: 'eastpod', to: 'default', via: '10.10.1.1' },
        { host: 'nat1', to: 'default', via: '10.99.3.1' },
        { host: 'vm1', to: 'default', via: '192.168.77.1' },
      ],
      nat: [{ host: 'nat1', source: '192.168.77.0/24', outIfname: 'wan0' }],
    });
    const etcd = await startEtcd(run, topo.host('broker'));
    const api = await startApiServer(run, {
      name: 'broker',
      host: topo.host('broker'),
      etcd,
      address: '10.99.0.2',
    });
    const broker = await deployBroker(api.kubeConfig());
    const eastToken = await serviceAccountWithRole(
      api.kubeConfig(),
      broker.namespace,
      'cluster-east',
      'submariner-k8s-broker-cluster',
    );
    const east = new SubmarinerGateway({
      clusterId: 'east',
      host: topo.host('eastgw'),
      privateIp: GATEWAY_IP,
      clusterCidr: '10.10.0.0/16',
      serviceCidr: '10.110.0.0/16',
      cniAddress: '10.10.1.1',
      kubeConfig: api.kubeConfig(eastToken),
      namespace: broker.namespace,
      psk: broker.psk,
    });
    await east.start(run);
    const brokerInfo = writeBrokerInfo(run.dir, api.url, broker);
    return { run, topo, api, broker, east, brokerInfo, setupMs: performance.now() - started };
  } catch (err) {
    await run.cleanup().catch(() => undefined);
    throw err;
  }
}
