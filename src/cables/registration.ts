// Our own Cluster and Endpoint on the broker, re-asserted on every reconcile after the cables are
// programmed: a member that sees our new Endpoint (a new key after a failover) and initiates a
// handshake at once must find us ready, or WireGuard waits 5 s (REKEY_TIMEOUT) before retrying.
// During an outage the status keeps the last confirmed state: the Endpoint is most likely still
// on the broker, and saying "not published" would be untrue.
import type { Clock } from '../reconcile/clock.ts';
import { NO_CHANGE, OutcomeBuilder, type ReconcileOutcome } from '../reconcile/outcome.ts';
import type { Stage } from '../reconcile/stage.ts';

export interface RegistrationStatus {
  /** True once the broker confirmed our registration; stays true through an outage. */
  published: boolean;
  endpointName: string | null;
  /** When the broker last confirmed it. */
  confirmedAt: string | null;
  /** Why the latest attempt failed; null when it succeeded. */
  lastError: string | null;
}

export class RegistrationStage implements Stage {
  readonly name = 'publish';
  readonly #publish: () => Promise<string>;
  readonly #mayPublish: () => boolean;
  readonly #clock: Clock;
  #status: RegistrationStatus = { published: false, endpointName: null, confirmedAt: null, lastError: null };
  #confirmedSinceStart = false;

  /** `mayPublish`: false until the broker has been listed (we would publish blind). `previous`:
   * what the last run's status said, so a restart during an outage still shows it. */
  constructor(o: {
    publish: () => Promise<string>;
    mayPublish: () => boolean;
    clock: Clock;
    previous?: Pick<RegistrationStatus, 'published' | 'endpointName' | 'confirmedAt'> | undefined;
  }) {
    this.#publish = o.publish;
    this.#mayPublish = o.mayPublish;
    this.#clock = o.clock;
    if (o.previous?.published && o.previous.confirmedAt) {
      this.#status = { ...o.previous, lastError: null };
    }
  }

  get status(): RegistrationStatus {
    return { ...this.#status };
  }

  async reconcile(): Promise<ReconcileOutcome> {
    if (!this.#mayPublish() && !this.#confirmedSinceStart) return NO_CHANGE;
    try {
      const endpointName = await this.#publish();
      this.#confirmedSinceStart = true;
      this.#status = {
        published: true,
        endpointName,
        confirmedAt: new Date(this.#clock.now()).toISOString(),
        lastError: null,
      };
      return NO_CHANGE;
    } catch (err) {
      this.#status = { ...this.#status, lastError: err instanceof Error ? err.message : String(err) };
      return new OutcomeBuilder().fail('publish', err, 'registration').build();
    }
  }
}
