/**
 * Resource disposers of tasks ("Register Resources"): kept per task while it
 * is live, run exactly once, last registered first, after its terminal
 * status (on a microtask, never inside a transition); registered after the
 * end, run at once. Every disposal under way is tracked so that cleanupTask
 * and shutdown can wait for it. Errors go to `report`, never to the outcome.
 */
import { runDisposers } from '../wire/task-context.js';
import type { Disposer, TaskRecord } from './task-record.js';

export type ReportResourceError = (taskId: string, name: string, error: unknown) => void;

export class Disposals {
  readonly #report: ReportResourceError;
  readonly #underWay = new Set<Promise<void>>();

  constructor(report: ReportResourceError) {
    this.#report = report;
  }

  /** Keeps `dispose` for the task's terminal status, or runs it now if that has passed. */
  add(record: TaskRecord, dispose: Disposer, terminal: boolean): void {
    if (terminal) {
      // Registered after the end (an abandoned attempt still running): dispose at once.
      this.#track(
        record,
        runDisposers([dispose], (error) => this.#report(record.id, record.name, error)),
      );
      return;
    }
    (record.disposers ??= []).push(dispose);
  }

  /** At the terminal status: starts the task's disposers on a microtask. */
  disposeAll(record: TaskRecord): void {
    const disposers = record.disposers;
    if (disposers === undefined) return;
    record.disposers = undefined;
    const disposal = Promise.resolve().then(() => runDisposers(disposers, (error) => this.#report(record.id, record.name, error)));
    this.#track(record, disposal);
  }

  /** A disposer from an attempt whose task was already forgotten: runs at once. */
  runOrphan(taskId: string, name: string, dispose: Disposer): void {
    void runDisposers([dispose], (error) => this.#report(taskId, name, error));
  }

  /** Resolves once no disposal is under way (shutdown waits for this). */
  async settle(): Promise<void> {
    while (this.#underWay.size > 0) await Promise.all([...this.#underWay]);
  }

  #track(record: TaskRecord, disposal: Promise<void>): void {
    const previous = record.disposal;
    const chained = previous === undefined ? disposal : Promise.all([previous, disposal]).then(() => undefined);
    record.disposal = chained;
    this.#underWay.add(chained);
    void chained.finally(() => this.#underWay.delete(chained));
  }
}
