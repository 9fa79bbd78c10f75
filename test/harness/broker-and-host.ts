// The smallest real setup for CLI tests: a broker API server (etcd, kube-apiserver,
// kube-controller-manager, the Submariner broker CRDs and Roles) in namespace "broker" and one
// host "vm1" linked to it, with the broker-info.subm of the admin token.
import { type ApiServer, type Etcd, startApiServer, startEtcd } from './apiserver.ts';
import { type BrokerFixture, deployBroker, writeBrokerInfo } from './broker.ts';
import type { TestRun } from './run.ts';
import { buildTopology, type Topology } from './topology.ts';

export interface BrokerAndHost {
  topo: Topology;
  api: ApiServer;
  /** The broker's etcd; more (cluster) API servers may share it under their own prefix. */
  etcd: Etcd;
  broker: BrokerFixture;
  /** broker-info.subm with the broker admin token. */
  brokerInfo: string;
}

export async function startBrokerAndHost(run: TestRun): Promise<BrokerAndHost> {
  const topo = await buildTopology(run, {
    hosts: { broker: {}, vm1: {} },
    links: [{ a: { host: 'broker', address: '10.99.0.2/24' }, b: { host: 'vm1', address: '10.99.0.3/24' } }],
    routes: [{ host: 'vm1', to: 'default', via: '10.99.0.2' }],
  });
  const etcd = await startEtcd(run, topo.host('broker'));
  const api = await startApiServer(run, {
    name: 'broker',
    host: topo.host('broker'),
    etcd,
    address: '10.99.0.2',
  });
  const broker = await deployBroker(api.kubeConfig());
  return { topo, api, etcd, broker, brokerInfo: writeBrokerInfo(run.dir, api.url, broker) };
}
