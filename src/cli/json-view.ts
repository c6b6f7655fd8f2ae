/** `--json`: every engine event as one JSON object a line on stdout, errors as `{ name, code, message }`. */
import type { Subscription } from 'rxjs';
import type { TaskEngine, TaskEvent } from '../index.js';
import { errorToJson } from './format.js';
import type { View, WriteLine } from './view.js';

export function startJsonView(engine: TaskEngine, write: WriteLine): View {
  const subscription: Subscription = engine.events.subscribe((event) => write(JSON.stringify(eventToJson(event))));
  return { stop: () => subscription.unsubscribe() };
}

export function eventToJson(event: TaskEvent): Record<string, unknown> {
  const data: Record<string, unknown> = { ...event };
  if ('error' in event && event.error !== undefined) data.error = errorToJson(event.error);
  return data;
}
