// Operations on the oracle gateway (test/harness/submariner-gateway.ts) that the benchmark needs
// in finer steps than the harness offers: a restart split into "the gateway's wireguard-go is
// back with a fresh key and its peers" and "the Endpoint update is written", so the time from
// the write to restored traffic measures the host's reaction alone.
import { CustomObjectsApi } from '@kubernetes/client-node';
import type { TestRun } from '../../test/harness/run.ts';
import type { SubmarinerGateway } from '../../test/harness/submariner-gateway.ts';
import { startWireGuardGo } from '../../test/harness/wireguard.ts';

/** Remove every peer from the gateway's device (stale peers of hosts that left). */
export async function clearGatewayPeers(gw: SubmarinerGateway): Promise<void> {
  const host = gw.options.host;
  const peers = (await host.exec(['wg', 'show', gw.wg.name, 'peers'])).stdout.split('\n').filter(Boolean);
  for (const key of peers) await host.exec(['wg', 'set', gw.wg.name, 'peer', key, 'remove']);
}

/** Restart the gateway's wireguard-go with a fresh key and program its peers and routes, without
 * touching the broker. Returns the new public key. */
export async function rekeyGatewayDevice(run: TestRun, gw: SubmarinerGateway): Promise<string> {
  await gw.wg.process.stop();
  gw.wg = await startWireGuardGo(run, gw.options.host, undefined, gw.options.port ?? 4500);
  await gw.syncPeers(run);
  return gw.wg.keys.publicKey;
}

/** Write the gateway's Endpoint with `publicKey` (same name, same cable: an update). Returns the
 * wall-clock ms when the write request was sent and when the API server acknowledged it. */
export async function publishGatewayKey(
  gw: SubmarinerGateway,
  publicKey: string,
): Promise<{ sent: number; acked: number }> {
  const o = gw.options;
  const custom = o.kubeConfig.makeApiClient(CustomObjectsApi);
  const ref = {
    group: 'submariner.io',
    version: 'v1',
    namespace: o.namespace,
    plural: 'endpoints',
    name: `${o.clusterId}-${gw.cableName}`,
  };
  const current = (await custom.getNamespacedCustomObject(ref)) as {
    spec: { backend_config?: Record<string, string> };
  };
  current.spec.backend_config = { ...current.spec.backend_config, publicKey };
  const sent = Date.now();
  await custom.replaceNamespacedCustomObject({ ...ref, body: current });
  return { sent, acked: Date.now() };
}
