// The baseline for the throughput comparison: a hand-configured wireguard-go pair over exactly the
// path moor's cable takes (host vm1 behind the NAT router ↔ gateway node eastgw), carrying its own
// inner addresses so both tunnels can exist side by side:
//   vm1 100.71.0.10 ──hand wg──▶ eastgw ──▶ eastpod 10.250.0.2 (a second address of the pod)
import type { TestRun } from '../../test/harness/run.ts';
import type { Host } from '../../test/harness/topology.ts';
import { addWgPeer, type HandWgInterface, startWireGuardGo } from '../../test/harness/wireguard.ts';

export const HAND_HOST_ADDRESS = '100.71.0.10';
export const HAND_POD_ADDRESS = '10.250.0.2';

export interface HandTunnel {
  host: HandWgInterface;
  gateway: HandWgInterface;
  stop(): Promise<void>;
}

export async function buildHandTunnel(
  run: TestRun,
  hosts: { vm: Host; gateway: Host; pod: Host },
  options: { gatewayIp: string; natPublicIp: string; hostMtu: number; gatewayMtu: number },
): Promise<HandTunnel> {
  const { vm, gateway, pod } = hosts;
  const hostWg = await startWireGuardGo(run, vm, `${HAND_HOST_ADDRESS}/32`, 51820);
  const gwWg = await startWireGuardGo(run, gateway, undefined, 51821);
  await vm.exec(['ip', 'link', 'set', hostWg.name, 'mtu', String(options.hostMtu)]);
  await gateway.exec(['ip', 'link', 'set', gwWg.name, 'mtu', String(options.gatewayMtu)]);
  // Same shape as the real cable: the host dials the gateway, the gateway knows the host's NAT
  // address, keepalive 10 on both.
  await addWgPeer(vm, hostWg, {
    publicKey: gwWg.keys.publicKey,
    endpoint: `${options.gatewayIp}:${gwWg.listenPort}`,
    allowedIps: [`${HAND_POD_ADDRESS}/32`],
    keepalive: 10,
  });
  await addWgPeer(gateway, gwWg, {
    publicKey: hostWg.keys.publicKey,
    endpoint: `${options.natPublicIp}:${hostWg.listenPort}`,
    allowedIps: [`${HAND_HOST_ADDRESS}/32`],
    keepalive: 10,
  });
  await vm.exec([
    'ip',
    'route',
    'replace',
    `${HAND_POD_ADDRESS}/32`,
    'dev',
    hostWg.name,
    'src',
    HAND_HOST_ADDRESS,
  ]);
  await gateway.exec(['ip', 'route', 'replace', `${HAND_HOST_ADDRESS}/32`, 'dev', gwWg.name]);
  const podIf = 'to-eastgw';
  await pod.exec(['ip', 'addr', 'add', `${HAND_POD_ADDRESS}/32`, 'dev', podIf]);
  await gateway.exec(['ip', 'route', 'replace', `${HAND_POD_ADDRESS}/32`, 'dev', 'to-eastpod']);
  return {
    host: hostWg,
    gateway: gwWg,
    stop: async () => {
      await hostWg.process.stop();
      await gwWg.process.stop();
      await pod.exec(['ip', 'addr', 'del', `${HAND_POD_ADDRESS}/32`, 'dev', podIf], { allowFail: true });
      await gateway.exec(['ip', 'route', 'del', `${HAND_POD_ADDRESS}/32`], { allowFail: true });
    },
  };
}

export async function linkMtu(host: Host, ifname: string): Promise<number> {
  const r = await host.exec(['ip', '-j', 'link', 'show', 'dev', ifname]);
  const mtu = (JSON.parse(r.stdout) as Array<{ mtu?: number }>)[0]?.mtu;
  if (!mtu) throw new Error(`no MTU for ${ifname} in ${host.name}`);
  return mtu;
}
