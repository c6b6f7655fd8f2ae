/**
 * The Task Monitor's event stream: an rxjs Subject behind a read-only
 * Observable. Events are built only when someone listens.
 */
import { Subject, type Observable } from 'rxjs';
import type { TaskEvent } from '../events.js';

export class EventStream {
  readonly #subject = new Subject<TaskEvent>();
  readonly observable: Observable<TaskEvent> = this.#subject.asObservable();

  /** Whether any subscriber is listening; callers skip building events otherwise. */
  get observed(): boolean {
    return this.#subject.observed;
  }

  emit(event: TaskEvent): void {
    this.#subject.next(event);
  }

  complete(): void {
    this.#subject.complete();
  }
}
