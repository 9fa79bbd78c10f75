// The gateway's floating address on the cluster network: nodes route remote subnets to it, so a
// failover moves one address instead of reprogramming every node. The new holder announces it
// with gratuitous ARP so neighbours update their caches at once.
import type { CommandRunner } from '../dataplane/exec.ts';

export interface Vip {
  /** Address with prefix, e.g. 10.99.10.10/24 */
  cidr: string;
  dev: string;
}

export async function claimVip(runner: CommandRunner, vip: Vip, log: (line: string) => void): Promise<void> {
  const address = vip.cidr.split('/')[0] ?? '';
  const show = await runner.run(['ip', '-j', '-4', 'addr', 'show', 'dev', vip.dev]);
  if (!show.stdout.includes(`"${address}"`))
    await runner.run(['ip', 'addr', 'add', vip.cidr, 'dev', vip.dev]);
  // Fire and forget: arping paces its packets a second apart, and activation must not wait.
  void runner
    .run(['arping', '-U', '-c', '2', '-w', '3', '-I', vip.dev, address], { allowNonZeroExit: true })
    .catch(() =>
      log(
        `gratuitous ARP for ${address} failed (is arping installed?); neighbours learn the move when their cache expires`,
      ),
    );
}

export async function releaseVip(runner: CommandRunner, vip: Vip): Promise<void> {
  await runner.run(['ip', 'addr', 'del', vip.cidr, 'dev', vip.dev], { allowNonZeroExit: true });
}
