// Removing the host's dataplane on `moor leave`: stop the agent, undo the resolver integration,
// then delete the WireGuard interface. Its addresses and routes go with it; wireguard-go exits when its link is deleted.
import type { CommandRunner } from '../dataplane/exec.ts';
import { IpRouteNetlink } from '../dataplane/netlink/iproute.ts';
import { removeWireGuardInterface } from '../dataplane/wireguard/remove.ts';
import { HostResolverIntegration } from '../dns/resolver.ts';
import { stopAgent } from './service.ts';
import type { HostState } from './state.ts';

export async function teardownHost(
  state: HostState,
  runner: CommandRunner,
  stateDir: string,
  log: (line: string) => void,
): Promise<void> {
  await stopAgent(stateDir);
  // The resolver record in the state directory says exactly what to undo.
  const resolver = new HostResolverIntegration({
    runner,
    stateDir,
    interfaceName: state.interfaceName,
    server: { address: state.addresses[0] ?? '127.0.0.1', port: 53 },
    customDomains: state.customDomains,
    log,
  });
  for (const undone of await resolver.remove()) log(`resolver: ${undone}`);
  await removeWireGuardInterface(new IpRouteNetlink(runner), state.interfaceName);
}
