/**
 * The task statechart, exhaustively: every state reachable from `pending`
 * under small inputs (no retry / one retry, no timeout / a timeout) and a
 * representative payload of every event, delayed ones included, explored
 * with `xstate/graph`. From that graph: every state node and final state is
 * reachable, finals are never left, every transition of the definition is
 * taken by some path (a dead edge fails, named), and each reachable state
 * maps to a public status.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { createActor, SimulatedClock, type AnyStateNode, type EventObject, type SnapshotFrom, type StateValue } from 'xstate';
import { getAdjacencyMap, getShortestPaths } from 'xstate/graph';
import { NonRetryableError, RateLimitedError, STATUS_OF_STATE, TaskStatus, WorkerCrashedError, taskMachine } from '../src/index.js';
import { topState, type RestoreEvent, type TaskMachineEvent, type TaskMachineInput, type Upstream } from '../src/machines/task.machine.js';
import { TRIGGER_RULES } from '../src/machines/trigger-rules.js';
import { describeMachine, type TransitionDescription } from '../src/monitor/statechart.js';

/** The machine as the graph sees it: its effects are no-ops, its guards, assigns and delays are the real ones. */
const machine = taskMachine.provide({
  actions: { entered: () => {}, abortAttempt: () => {}, reportProgress: () => {}, recordHeartbeat: () => {}, pauseLimits: () => {} },
});
type Snapshot = SnapshotFrom<typeof machine>;
/** A machine event, or a delayed event (`xstate.after.<delay>.<state id>`) sent by hand. */
type GraphEvent = TaskMachineEvent | EventObject;

const description = describeMachine(machine);
const rootId = machine.root.id;
const pathOf = (node: AnyStateNode): string => node.id.slice(rootId.length + 1);

function stateNodes(node: AnyStateNode): AnyStateNode[] {
  return (Object.values(node.states) as AnyStateNode[]).flatMap((child) => [child, ...stateNodes(child)]);
}

/** Delayed event types, read off the definition rather than spelled out here. */
const delayedEventTypes = stateNodes(machine.root).flatMap((node) =>
  [...node.transitions.keys()].filter((type) => type.startsWith('xstate.after.')),
);

const retryable = new Error('attempt failed (retryable)');
const nonRetryable = new NonRetryableError('attempt failed (non-retryable)');
/** A remote worker process lost: re-run free within maxCrashes (default 1), then an ordinary failure. */
const processCrash = new WorkerCrashedError('worker process died', { worker: 'process' });
/** A pool thread killed: always an ordinary failure. */
const threadCrash = new WorkerCrashedError('worker thread died', { worker: 'thread' });

/** One payload per guard branch; the label is how the graph tells two payloads of one type apart. */
const labelledEvents: ReadonlyArray<readonly [string, GraphEvent]> = [
  ['START', { type: 'START' }],
  ['DEPENDENCY_COMPLETED', { type: 'DEPENDENCY_COMPLETED' }],
  ['DEPENDENCY_FAILED', { type: 'DEPENDENCY_FAILED', error: new Error('dependency failed') }],
  ['DEPENDENCY_CANCELLED', { type: 'DEPENDENCY_CANCELLED', error: new Error('dependency cancelled') }],
  ['DEPENDENCY_CANCELLED(shutdown)', { type: 'DEPENDENCY_CANCELLED', error: new Error('shut down'), shutdown: true }],
  ['DISPATCH', { type: 'DISPATCH' }],
  ['DISPATCH(deferred)', { type: 'DISPATCH', deferred: true }],
  ['STARTED(1)', { type: 'STARTED', attempt: 1 }],
  ['STARTED(2)', { type: 'STARTED', attempt: 2 }],
  ['ATTEMPT_SUCCEEDED(1)', { type: 'ATTEMPT_SUCCEEDED', attempt: 1, result: 'one' }],
  ['ATTEMPT_SUCCEEDED(2)', { type: 'ATTEMPT_SUCCEEDED', attempt: 2, result: 'two' }],
  ['ATTEMPT_FAILED(1, retryable)', { type: 'ATTEMPT_FAILED', attempt: 1, error: retryable }],
  ['ATTEMPT_FAILED(2, retryable)', { type: 'ATTEMPT_FAILED', attempt: 2, error: retryable }],
  ['ATTEMPT_FAILED(1, non-retryable)', { type: 'ATTEMPT_FAILED', attempt: 1, error: nonRetryable }],
  ['ATTEMPT_FAILED(2, non-retryable)', { type: 'ATTEMPT_FAILED', attempt: 2, error: nonRetryable }],
  // Only the first attempt is rate limited here: a 429 on every attempt would make the graph endless (attempts grow).
  ['ATTEMPT_FAILED(1, rate-limited)', { type: 'ATTEMPT_FAILED', attempt: 1, error: new RateLimitedError({ retryAfter: 30 }) }],
  // A process crash on attempts 1 and 2: free the first time (maxCrashes 1), counted the second.
  ['ATTEMPT_FAILED(1, process crash)', { type: 'ATTEMPT_FAILED', attempt: 1, error: processCrash }],
  ['ATTEMPT_FAILED(2, process crash)', { type: 'ATTEMPT_FAILED', attempt: 2, error: processCrash }],
  ['ATTEMPT_FAILED(1, thread crash)', { type: 'ATTEMPT_FAILED', attempt: 1, error: threadCrash }],
  ['STALLED(1)', { type: 'STALLED', attempt: 1, heartbeatTimeout: 20 }],
  ['STALLED(2)', { type: 'STALLED', attempt: 2, heartbeatTimeout: 20 }],
  ['HEARTBEAT', { type: 'HEARTBEAT', details: { offset: 42 } }],
  ['CACHE_HIT', { type: 'CACHE_HIT', result: 'from the cache' }],
  ['PROGRESS', { type: 'PROGRESS', progress: 0.5, message: 'half' }],
  ['COMPLETE', { type: 'COMPLETE', result: 'from outside' }],
  ['FAIL', { type: 'FAIL', error: new Error('failed from outside') }],
  ['CANCEL', { type: 'CANCEL', error: new Error('cancelled') }],
  ...restoreEvents(),
  ...delayedEventTypes.map((type) => [type, { type }] as const),
];
/**
 * One RESTORE payload per branch: back to waiting (the rule decides on the input's dependencies), backoff,
 * interrupted (a first interruption, re-run free; or one past maxInterruptions, with attempts left or not),
 * re-attached to a remote attempt (dispatched), unrunnable.
 */
function restoreEvents(): Array<readonly [string, TaskMachineEvent]> {
  const restore = (
    to: 'waiting' | 'retrying' | 'interrupted' | 'dispatched' | 'failed',
    attempts: number,
    interruptions?: number,
  ): TaskMachineEvent => ({
    type: 'RESTORE',
    to,
    attempts,
    ...(interruptions !== undefined && { interruptions }),
    backoff: to === 'retrying' ? 40 : 0,
    error: to === 'waiting' || to === 'dispatched' ? undefined : new Error(`restored ${to}`),
  });
  return [
    ['RESTORE(waiting)', restore('waiting', 0)],
    ['RESTORE(retrying, 1)', restore('retrying', 1)],
    ['RESTORE(interrupted, 1)', restore('interrupted', 1)],
    ['RESTORE(interrupted, 2, after 1 interruption)', restore('interrupted', 2, 1)],
    ['RESTORE(interrupted, 1, after 1 interruption)', restore('interrupted', 1, 1)],
    ['RESTORE(failed)', restore('failed', 0)],
    ['RESTORE(dispatched, 1)', restore('dispatched', 1)],
  ];
}
const events = labelledEvents.map(([, event]) => event) as TaskMachineEvent[];
const labelOf = new Map<GraphEvent, string>(labelledEvents.map(([label, event]) => [event, label]));

const base = { id: 'graph', retryDelay: 100, maxRetryDelay: Infinity, jitter: 0 };
const upstream = (total: number, succeeded = 0, failed = 0, skipped = 0): Upstream => ({
  total,
  succeeded,
  failed,
  skipped,
  failure: failed > 0 ? new Error('dependency failed before') : undefined,
  cancellation: skipped > 0 ? new Error('dependency cancelled before') : undefined,
});
/**
 * No retry or one, no timeout or one, without dependencies; no free re-runs at all, or two of each; then every
 * trigger rule over two dependencies none of which had ended, and dependencies that had ended before (a failure, a
 * cancellation, a success) so that START and RESTORE decide every way.
 */
const inputs: readonly TaskMachineInput[] = [
  ...[0, 1].flatMap((maxRetries) => [undefined, 50].map((timeout) => ({ ...base, maxRetries, timeout }))),
  { ...base, maxRetries: 1, timeout: 50, maxInterruptions: 0, maxCrashes: 0 },
  { ...base, maxRetries: 0, timeout: undefined, maxInterruptions: 2, maxCrashes: 2 },
  ...TRIGGER_RULES.map((trigger) => ({ ...base, maxRetries: 0, timeout: undefined, trigger, upstream: upstream(2) })),
  { ...base, maxRetries: 0, timeout: undefined, upstream: upstream(2, 0, 1) },
  { ...base, maxRetries: 0, timeout: undefined, upstream: upstream(2, 0, 0, 1) },
  { ...base, maxRetries: 0, timeout: undefined, trigger: 'all_failed', upstream: upstream(2, 1) },
  { ...base, maxRetries: 0, timeout: undefined, trigger: 'all_done', upstream: upstream(1, 1) },
];
const inputLabel = (input: TaskMachineInput) =>
  `maxRetries ${input.maxRetries}, timeout ${input.timeout ?? 'none'}, maxInterruptions ${input.maxInterruptions ?? 'default'}, ` +
  `maxCrashes ${input.maxCrashes ?? 'default'}, ${input.trigger ?? 'all_success'}, upstream ${JSON.stringify(
    input.upstream && [input.upstream.total, input.upstream.succeeded, input.upstream.failed, input.upstream.skipped],
  )}`;

const countsOf = (snapshot: Snapshot) => {
  const { total, succeeded, failed, skipped } = snapshot.context.upstream;
  return [total, succeeded, failed, skipped];
};

/** The state value plus the context that changes which guards pass; the rest (errors, results) does not. */
const serializeState = (snapshot: Snapshot): string => {
  const { attempts, freeAttempts, interruptions, crashes } = snapshot.context;
  return JSON.stringify([snapshot.value, attempts, freeAttempts, interruptions, crashes, countsOf(snapshot)]);
};
const serializeEvent = (event: GraphEvent): string => labelOf.get(event) ?? JSON.stringify(event);
const traversal = (input: TaskMachineInput) => ({ input, events, serializeState, serializeEvent });

/** A step of the graph and the definitions XState selected for it. */
interface Edge {
  readonly input: TaskMachineInput;
  readonly from: Snapshot;
  readonly label: string;
  readonly event: GraphEvent;
  readonly to: Snapshot;
  readonly taken: readonly string[];
}

/** The key describeMachine's row gets, built the same way from a definition object. */
const keyOf = (t: Pick<TransitionDescription, 'source' | 'event' | 'guard' | 'target'>): string =>
  `${t.source} --${t.event}${t.guard ? ` [${t.guard}]` : ''}--> ${t.target ?? '(stays)'}`;

function definitionKey(definition: ReturnType<typeof machine.getTransitionData>[number]): string {
  const delayed = /^xstate\.after\.([^.]+)\./.exec(definition.eventType);
  const guard = definition.guard as unknown;
  return keyOf({
    source: pathOf(definition.source),
    event: delayed ? `after ${delayed[1]}` : definition.eventType,
    guard: typeof guard === 'string' ? guard : (guard as { type?: string } | undefined)?.type,
    target: definition.target?.[0] ? pathOf(definition.target[0]) : undefined,
  });
}

/** `running.timed` as the state value `{ running: 'timed' }`. */
function valueOf(path: string): StateValue {
  const [head, ...rest] = path.split('.');
  return rest.length === 0 ? (head as string) : { [head as string]: valueOf(rest.join('.')) };
}

const isIn = (snapshot: Snapshot, path: string) => snapshot.matches(valueOf(path) as never);
const show = (snapshot: Snapshot) =>
  `${JSON.stringify(snapshot.value)} (attempts ${snapshot.context.attempts}, dependencies ${JSON.stringify(countsOf(snapshot))})`;

/** A path's events, written out for a failure message. */
const pathText = (steps: ReadonlyArray<{ event: GraphEvent }>) => steps.map((s) => serializeEvent(s.event)).join(' → ') || '(initial)';

describe('task machine graph (xstate/graph, every event and guard branch)', () => {
  const edges: Edge[] = [];
  const reachable: Array<{ input: TaskMachineInput; snapshot: Snapshot; path: string }> = [];

  beforeAll(() => {
    for (const input of inputs) {
      for (const path of getShortestPaths(machine, traversal(input))) {
        reachable.push({ input, snapshot: path.state, path: pathText(path.steps) });
      }
      const adjacency = getAdjacencyMap(machine, traversal(input));
      for (const { state: from, transitions } of Object.values(adjacency)) {
        for (const [label, { event, state: to }] of Object.entries(transitions) as Array<
          [string, { event: GraphEvent; state: Snapshot }]
        >) {
          const taken = machine.getTransitionData(from, event as TaskMachineEvent).map(definitionKey);
          edges.push({ input, from, label, event, to, taken });
        }
      }
    }
  });

  it('reads the delayed events and the transition table off the machine the supervisor uses', () => {
    const delayedRows = description.transitions.filter((t) => t.event.startsWith('after '));
    expect(delayedEventTypes.length).toBe(new Set(delayedRows.map((t) => `${t.source} ${t.event}`)).size);
    expect(delayedEventTypes.length).toBeGreaterThan(0);
    expect(describeMachine(taskMachine)).toEqual(description);
    const keys = description.transitions.map(keyOf);
    expect(new Set(keys).size, 'two transitions share source, event, guard and target').toBe(keys.length);
  });

  it('reaches every state node, running.timed and running.untimed included', () => {
    const unreached = description.states.map((s) => s.path).filter((path) => !reachable.some((r) => isIn(r.snapshot, path)));
    expect(unreached, `state nodes no path reaches: ${unreached.join(', ')}`).toEqual([]);
    expect(description.states.map((s) => s.path)).toEqual(expect.arrayContaining(['running.timed', 'running.untimed']));
  });

  it('reaches each final state as a done snapshot', () => {
    const finals = description.states.filter((s) => s.type === 'final').map((s) => s.path);
    expect(finals.sort()).toEqual(['cancelled', 'completed', 'failed']);
    for (const final of finals) {
      const hits = reachable.filter((r) => isIn(r.snapshot, final));
      expect(hits.length, `no path reaches final state ${final}`).toBeGreaterThan(0);
      for (const hit of hits) expect(hit.snapshot.status, `${final} via ${hit.path}`).toBe('done');
    }
  });

  it('never leaves a final state: no event selects a transition or changes a final snapshot', () => {
    const finalPaths = description.states.filter((s) => s.type === 'final').map((s) => s.path);
    const fromFinal = edges.filter((e) => finalPaths.some((path) => isIn(e.from, path)));
    const finalsReached = new Set(fromFinal.map((e) => `${inputLabel(e.input)} ${serializeState(e.from)}`));
    expect(fromFinal.length, 'every event is tried on every reachable final snapshot').toBe(finalsReached.size * labelledEvents.length);
    for (const edge of fromFinal) {
      const where = `${show(edge.from)} on ${edge.label} (${inputLabel(edge.input)})`;
      expect(edge.taken, where).toEqual([]);
      expect(edge.to.value, where).toEqual(edge.from.value);
      expect(edge.to.status, where).toBe('done');
    }
  });

  it('takes every transition of the definition on some path (a transition no path takes is a dead edge)', () => {
    const takenBy = new Map<string, Edge>();
    for (const edge of edges) for (const key of edge.taken) if (!takenBy.has(key)) takenBy.set(key, edge);
    const dead = description.transitions.map(keyOf).filter((key) => !takenBy.has(key));
    expect(dead, `dead edges (no path takes them): ${dead.join('; ')}`).toEqual([]);
    const unknown = [...takenBy.keys()].filter((key) => !description.transitions.map(keyOf).includes(key));
    expect(unknown, 'taken transitions missing from describeMachine').toEqual([]);
  });

  it('moves exactly as the selected definition says: from its source, to its target, or stays', () => {
    for (const edge of edges) {
      const where = `${show(edge.from)} --${edge.label}--> ${show(edge.to)} (${inputLabel(edge.input)})`;
      expect(edge.taken.length, where).toBeLessThanOrEqual(1);
      const definition = machine.getTransitionData(edge.from, edge.event as TaskMachineEvent)[0];
      if (definition === undefined) {
        expect([edge.to.value, edge.to.context.attempts, countsOf(edge.to)], where).toEqual([
          edge.from.value,
          edge.from.context.attempts,
          countsOf(edge.from),
        ]);
        continue;
      }
      expect(edge.event.type, where).toBe(definition.eventType);
      expect(isIn(edge.from, pathOf(definition.source)), where).toBe(true);
      const target = definition.target?.[0];
      if (target === undefined) expect(edge.to.value, where).toEqual(edge.from.value);
      else expect(isIn(edge.to, pathOf(target)), where).toBe(true);
    }
  });

  it('replays every shortest path on a live actor, firing delayed events by advancing a simulated clock', () => {
    const delays = machine.implementations.delays as Record<string, (args: { context: unknown; event: unknown }) => number>;
    for (const input of inputs) {
      for (const path of getShortestPaths(machine, traversal(input))) {
        const clock = new SimulatedClock();
        const actor = createActor(machine, { input, clock }).start();
        for (const { event } of path.steps) {
          const delayed = /^xstate\.after\.([^.]+)\./.exec(event.type);
          const delay = delayed ? delays[delayed[1] as string] : undefined;
          if (delay) clock.increment(delay({ context: actor.getSnapshot().context, event }));
          else actor.send(event as TaskMachineEvent);
        }
        const live = actor.getSnapshot();
        expect(serializeState(live), `${pathText(path.steps)} (${inputLabel(input)})`).toBe(serializeState(path.state));
        actor.stop();
      }
    }
  });

  it('counts free re-runs on every edge within their limits, and a cache hit as no attempt', () => {
    for (const edge of edges) {
      const where = `${show(edge.from)} --${edge.label}--> ${show(edge.to)} (${inputLabel(edge.input)})`;
      const to = edge.to.context;
      // Before the step; for a RESTORE, what it restores (the free re-run, if any, comes on top).
      const restored = edge.event.type === 'RESTORE' && edge.taken.length > 0 ? (edge.event as RestoreEvent) : undefined;
      const from =
        restored === undefined
          ? edge.from.context
          : {
              ...edge.from.context,
              attempts: restored.attempts,
              freeAttempts: restored.freeAttempts ?? 0,
              interruptions: restored.interruptions ?? 0,
            };
      // A step counts one crash or interruption at most, and only below its limit (a restored count may be above it).
      for (const [field, limit] of [
        ['crashes', edge.input.maxCrashes ?? 1],
        ['interruptions', edge.input.maxInterruptions ?? 1],
      ] as const) {
        if (to[field] === from[field]) continue;
        expect([to[field] - from[field], from[field] < limit], `${where}: ${field}`).toEqual([1, true]);
      }
      // Free: a rate-limited attempt, a crash within maxCrashes, an interruption within maxInterruptions; nothing else.
      const rateLimited = edge.taken.some((key) => key.includes('[isCurrentAttemptRateLimited]')) ? 1 : 0;
      expect(to.freeAttempts - from.freeAttempts, `${where}: free attempts`).toBe(
        rateLimited + to.crashes - from.crashes + to.interruptions - from.interruptions,
      );
      // The supervisor tells a cache hit by its step alone: `queued` to `completed` is a CACHE_HIT, and that is all it is.
      const completes = isIn(edge.to, 'completed') && !isIn(edge.from, 'completed');
      if (completes) expect(isIn(edge.from, 'queued'), `${where}: completed from queued`).toBe(edge.event.type === 'CACHE_HIT');
      if (completes && edge.event.type === 'CACHE_HIT') {
        expect([to.attempts, to.result], `${where}: no attempt counted`).toEqual([
          from.attempts,
          (edge.event as { result: unknown }).result,
        ]);
      }
      if (edge.event.type === 'STALLED' && edge.taken.length > 0) {
        expect(to.error, where).toMatchObject({
          code: 'ERR_TASK_STALLED',
          attempt: from.attempts,
          heartbeatTimeout: (edge.event as { heartbeatTimeout: number }).heartbeatTimeout,
        });
        expect(topState(edge.to.value as string), where).toBe(
          to.attempts - to.freeAttempts <= edge.input.maxRetries ? 'retrying' : 'failed',
        );
      }
    }
  });

  it('derives one of the six public statuses from every reachable state, and each status occurs', () => {
    const statuses = Object.values(TaskStatus) as string[];
    const seen = new Set<string>();
    for (const { snapshot, path } of reachable) {
      const status: string | undefined = STATUS_OF_STATE[topState(snapshot.value as string)];
      expect(statuses, `status of ${show(snapshot)} via ${path}`).toContain(status);
      seen.add(status as string);
    }
    expect([...seen].sort()).toEqual([...statuses].sort());
  });
});
