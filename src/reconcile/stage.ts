// A daemon's reconcile is a list of stages run in order (cables, then registration, then DNS,
// ...). Each reports its own outcome; a stage that throws becomes an error of its phase and the
// later stages still run, so one broken part never stops the others from converging.
import { applyError, mergeOutcomes, type ReconcileOutcome } from './outcome.ts';

export interface Stage {
  readonly name: string;
  reconcile(reason: string): Promise<ReconcileOutcome>;
}

export function runStages(stages: readonly Stage[]): (reason: string) => Promise<ReconcileOutcome> {
  return async (reason) => {
    const outcomes: ReconcileOutcome[] = [];
    for (const stage of stages) {
      try {
        outcomes.push(await stage.reconcile(reason));
      } catch (err) {
        outcomes.push({ changed: false, applied: [], errors: [applyError(stage.name, err)] });
      }
    }
    return mergeOutcomes(outcomes);
  };
}
