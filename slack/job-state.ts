// What the dispatcher knows about a job beyond what the outbox has on disk, in one map
// keyed by the job's seq, so finishing a job forgets all of it in one place.

export interface JobState {
  /** Its events were reported `retrying` (said once per job). */
  retrying?: boolean;
  /** It may already be in Slack: look for it before sending it again. */
  uncertain?: boolean;
  /** Its latest attempt mark could not be saved: a restart would not know to look for it. */
  unmarked?: boolean;
}

export class JobStates {
  #states = new Map<number, JobState>();

  has(seq: number, flag: keyof JobState): boolean {
    return this.#states.get(seq)?.[flag] === true;
  }

  set(seq: number, flag: keyof JobState, value: boolean): void {
    const state = this.#states.get(seq);
    if (value) {
      if (state) state[flag] = true;
      else this.#states.set(seq, { [flag]: true });
      return;
    }
    if (!state) return;
    delete state[flag];
    if (Object.keys(state).length === 0) this.#states.delete(seq);
  }

  /** The job is done with (delivered, found, refused, or left on disk for a restart). */
  forget(seq: number): void {
    this.#states.delete(seq);
  }
}
