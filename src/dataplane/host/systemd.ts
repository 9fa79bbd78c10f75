// systemd units, as a port: whether a unit is installed on a host that runs systemd, and
// enabling or disabling it. The agent decides what to start; only this module runs systemctl.
import { existsSync } from 'node:fs';
import type { CommandRunner } from '../exec.ts';

/** TimeoutStartSec of moor-agent.service plus a margin. */
const ENABLE_TIMEOUT_MS = 310_000;

export interface SystemdUnits {
  /** sd_booted() and `systemctl cat <unit>` succeeds. */
  hasUnit(unit: string): Promise<boolean>;
  /** `systemctl enable --now`. */
  enableNow(unit: string): Promise<void>;
  /** `systemctl disable --now`; a unit that is not running is fine. */
  disableNow(unit: string): Promise<void>;
}

export class SystemctlUnits implements SystemdUnits {
  readonly #runner: CommandRunner;
  readonly #booted: () => boolean;

  constructor(runner: CommandRunner, booted: () => boolean = () => existsSync('/run/systemd/system')) {
    this.#runner = runner;
    this.#booted = booted;
  }

  async hasUnit(unit: string): Promise<boolean> {
    if (!this.#booted()) return false;
    const r = await this.#runner.run(['systemctl', 'cat', unit], { allowNonZeroExit: true });
    return r.code === 0;
  }

  async enableNow(unit: string): Promise<void> {
    // A Type=notify unit is started once it sends READY=1, which may wait for a slow broker:
    // as long as the unit's own TimeoutStartSec (300 s, systemd/moor-agent.service) plus a margin,
    // so `moor join` never reports a failure for an agent that is still coming up.
    await this.#runner.run(['systemctl', 'enable', '--now', unit], { timeoutMs: ENABLE_TIMEOUT_MS });
  }

  async disableNow(unit: string): Promise<void> {
    await this.#runner.run(['systemctl', 'disable', '--now', unit], { allowNonZeroExit: true });
  }
}
