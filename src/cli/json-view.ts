/**
 * `--json`: every engine event as one JSON object a line on stdout, errors as `{ name, code, message }`;
 * a `status` event to COMPLETED carries the task's `result` (as JSON can hold it).
 */
import type { Subscription } from 'rxjs';
import { TaskStatus, type TaskEngine, type TaskEvent } from '../index.js';
import { errorToJson, resultToJson } from './format.js';
import type { View, WriteLine } from './view.js';

export function startJsonView(engine: TaskEngine, write: WriteLine): View {
  const subscription: Subscription = engine.events.subscribe((event) => write(JSON.stringify(eventToJson(event, engine))));
  return { stop: () => subscription.unsubscribe() };
}

export function eventToJson(event: TaskEvent, engine?: Pick<TaskEngine, 'getTask'>): Record<string, unknown> {
  const data: Record<string, unknown> = { ...event };
  if ('error' in event && event.error !== undefined) data.error = errorToJson(event.error);
  if (engine !== undefined && event.type === 'status' && event.status === TaskStatus.COMPLETED)
    data.result = resultToJson(engine.getTask(event.taskId).result);
  return data;
}
