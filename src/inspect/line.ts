/**
 * One recorded inspection event: the JSON object the recorder writes per line.
 * Built synchronously when XState emits the event, so it shows the state of that moment.
 */
import type { InspectionEvent } from 'xstate';
import { nameInLabel } from '../runtime/xstate-runtime.js';
import { toJsonSafe, type JsonValue } from './serialize.js';

/** The `type` of an XState inspection event, as XState emits it. */
export type InspectionEventType = InspectionEvent['type'];

/** A snapshot as recorded: state value, status and context, each JSON-safe. */
export interface RecordedSnapshot {
  /** `active`, `done`, `error` or `stopped`. */
  status: string | undefined;
  /** The state value: `'queued'`, `{ running: 'untimed' }`... (absent for non-machine actors). */
  value?: JsonValue;
  context?: JsonValue;
  output?: JsonValue;
  error?: JsonValue;
}

/** One line of a recording. */
export interface InspectionLine {
  /** 1, 2, 3... in the order XState emitted the events. */
  seq: number;
  type: InspectionEventType;
  /** When the recorder saw the event, in ms since the epoch (or the recorder's `now()`). */
  time: number;
  /** The session id of the root actor. */
  rootId: string;
  /** The session id of the actor the event is about (the target, for `@xstate.event`). */
  sessionId: string;
  /**
   * The actor's id: for a task actor, the task's label, its name followed by its id when the id is not the
   * name (`parse (b4d21485-…)`), which is also the name Stately's inspector shows; the session id otherwise.
   */
  actorId: string | undefined;
  /** The id of the actor's machine: `'task'` for task actors, `'supervisor'` for the engine's own. */
  machine: string | undefined;
  /** The task's id (its `context.id`, and the actor's `systemId`) when the actor is a task actor. */
  taskId?: string;
  /** The task's name when the actor is a task actor (read from its actor id). */
  taskName?: string;
  /** `@xstate.event`: the session id of the sender, when XState knows it. */
  sourceId?: string;
  /** `@xstate.event`, `@xstate.snapshot`, `@xstate.microstep`: the event, JSON-safe. */
  event?: JsonValue;
  /** `@xstate.snapshot`, `@xstate.microstep`: the snapshot after the event; `@xstate.actor`: the initial one when there is one. */
  snapshot?: RecordedSnapshot;
  /** `@xstate.action`: the action run. */
  action?: { type: string; params?: JsonValue };
  /** `@xstate.microstep`: the transitions taken. */
  transitions?: Array<{ source: string | undefined; targets: string[]; eventType: string }>;
}

interface ActorLike {
  sessionId: string;
  id?: unknown;
  logic?: { id?: unknown };
  getSnapshot?: () => unknown;
  options?: { input?: { id?: unknown } };
}

type WithContextId = { context?: { id?: unknown } } | undefined;

/**
 * A task actor's `context.id`: from the event's snapshot, else the actor's current one,
 * else (at `@xstate.actor`, before the actor has a snapshot) the input it was created with.
 */
function taskIdOf(actor: ActorLike, snapshot: unknown): string | undefined {
  return (
    stringOrUndefined(attempt(() => (snapshot as WithContextId)?.context?.id)) ??
    stringOrUndefined(attempt(() => (actor.getSnapshot?.() as WithContextId)?.context?.id)) ??
    stringOrUndefined(attempt(() => actor.options?.input?.id))
  );
}

/** The recorded line for one inspection event. */
export function toInspectionLine(event: InspectionEvent, seq: number, time: number, maxDepth: number): InspectionLine {
  const actor = event.actorRef as ActorLike;
  const machine = stringOrUndefined(attempt(() => actor.logic?.id));
  const line: InspectionLine = {
    seq,
    type: event.type,
    time,
    rootId: event.rootId,
    sessionId: actor.sessionId,
    actorId: stringOrUndefined(attempt(() => actor.id)),
    machine,
  };
  const snapshot = 'snapshot' in event ? event.snapshot : event.type === '@xstate.actor' ? attempt(() => actor.getSnapshot?.()) : undefined;
  if (machine === 'task') {
    const taskId = taskIdOf(actor, snapshot);
    if (taskId !== undefined) line.taskId = taskId;
    const taskName = line.actorId === undefined || taskId === undefined ? undefined : nameInLabel(line.actorId, taskId);
    if (taskName !== undefined) line.taskName = taskName;
  }
  if (event.type === '@xstate.event' && event.sourceRef) line.sourceId = event.sourceRef.sessionId;
  if ('event' in event) line.event = toJsonSafe(event.event, maxDepth) ?? null;
  if (snapshot !== undefined) line.snapshot = recordSnapshot(snapshot, maxDepth);
  if (event.type === '@xstate.action')
    line.action = { type: String(event.action.type), params: toJsonSafe(event.action.params, maxDepth) ?? null };
  if (event.type === '@xstate.microstep') line.transitions = attempt(() => event._transitions.map(describeTransition)) ?? [];
  return line;
}

function recordSnapshot(snapshot: unknown, maxDepth: number): RecordedSnapshot {
  const s = (snapshot ?? {}) as Record<string, unknown>;
  const recorded: RecordedSnapshot = { status: stringOrUndefined(attempt(() => s.status)) };
  for (const key of ['value', 'context', 'output', 'error'] as const) {
    const field = toJsonSafe(
      attempt(() => s[key]),
      maxDepth,
    );
    if (field !== undefined) recorded[key] = field;
  }
  return recorded;
}

function describeTransition(transition: {
  source?: { id?: unknown };
  target?: ReadonlyArray<{ id?: unknown }> | undefined;
  eventType: string;
}) {
  return {
    source: stringOrUndefined(transition.source?.id),
    targets: (transition.target ?? []).map((node) => String(node.id)),
    eventType: String(transition.eventType),
  };
}

function stringOrUndefined(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

function attempt<T>(read: () => T): T | undefined {
  try {
    return read();
  } catch {
    return undefined;
  }
}
