// A small cluster snapshot shared by the node-agent and egress-gateway snapshot tests.
import type { KubeObject } from '../k8s/reflector.ts';

export const gateway = (ready: boolean): KubeObject => ({
  metadata: { name: 'east' },
  spec: {
    nodeSelector: { matchLabels: { role: 'gw' } },
    pool: { cidrs: ['10.99.10.32/28'] },
    interface: 'lan0',
    subnet: '10.99.10.0/24',
    floatingIP: '10.99.10.30',
    vni: 4100,
  },
  status: { conditions: [{ type: 'Ready', status: ready ? 'True' : 'False', reason: 'x', message: '' }] },
});
const policy = (name: string, priority: number, app: string, ips: string[]): KubeObject => ({
  metadata: { name },
  spec: {
    gateway: 'east',
    destinations: [{ cidr: '10.99.50.0/24' }],
    priority,
    podSelector: { matchLabels: { app } },
  },
  status: { ips },
});
const pod = (name: string, node: string, ip: string, app: string): KubeObject =>
  ({
    metadata: { namespace: 'shop', name, labels: { app } },
    spec: { nodeName: node },
    status: { podIP: ip, phase: 'Running' },
  }) as KubeObject;
export const snapshot = {
  gateways: [gateway(true)],
  policies: [policy('pay', 10, 'pay', ['10.99.10.33']), policy('other', 0, 'pay', ['10.99.10.34'])],
  namespaces: [{ metadata: { name: 'shop' } }],
  pods: [
    pod('a', 'w1', '10.1.3.5', 'pay'),
    pod('b', 'w1', '10.1.3.6', 'web'),
    pod('c', 'w2', '10.1.4.5', 'pay'),
  ],
  nodes: [
    { metadata: { name: 'w1' }, spec: { podCIDRs: ['10.1.3.0/24', 'fd00::/64'] } },
    { metadata: { name: 'gw1', labels: { role: 'gw' } } } as KubeObject,
  ],
};
