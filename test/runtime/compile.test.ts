/**
 * The compiler (src/runtime/compile.ts) and one compiled run (compiled-runtime.ts), by example: what it refuses
 * at compile time, and small machines run side by side on XState's own actors and on the compiled table. The
 * task machine itself is compared with XState by property-tests/differential.test.ts.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  and,
  assign,
  cancel,
  createActor,
  emit,
  enqueueActions,
  fromPromise,
  log,
  not,
  raise,
  sendParent,
  sendTo,
  setup,
  SimulatedClock,
  spawnChild,
  stopChild,
  type AnyStateMachine,
  type EventObject,
  type StateValue,
} from 'xstate';
import type { TaskMachine, TaskMachineInput } from '../../src/machines/task.machine.js';
import type { Clock } from '../../src/options.js';
import { compileMachine, UnsupportedMachineError } from '../../src/runtime/compile.js';
import { CompiledRuntime } from '../../src/runtime/compiled-runtime.js';

// XState warns when an event reaches a stopped actor; these tests send such events on purpose.
beforeEach(() => {
  const warn = console.warn;
  vi.spyOn(console, 'warn').mockImplementation((...args: unknown[]) => {
    if (!String(args[0]).includes('was sent to stopped actor')) warn(...args);
  });
});
afterEach(() => {
  vi.restoreAllMocks();
});

/** The smallest machine around one state `a` configured by `a`, for the refusal cases. */
function around(a: object, extra: object = {}): AnyStateMachine {
  return setup({ actors: { child: fromPromise(async () => 1) } }).createMachine({
    id: 'm',
    initial: 'a',
    ...extra,
    states: { a, b: {} },
  } as never) as unknown as AnyStateMachine;
}

describe('compileMachine refuses, at compile time, what the table does not model', () => {
  const refusals: [feature: string, machine: () => AnyStateMachine, state: string, words: RegExp][] = [
    ['eventless transitions', () => around({ always: { target: 'b' } }), 'm.a', /`always`/],
    ['a parallel state', () => around({ type: 'parallel', states: { x: {}, y: {} } }), 'm.a', /parallel/],
    ['a history state', () => around({ initial: 'x', states: { x: {}, h: { type: 'history' } } }), 'm.a.h', /history/],
    ['an invoked actor', () => around({ invoke: { src: 'child' } }), 'm.a', /`invoke`/],
    ['onDone', () => around({ initial: 'x', states: { x: { type: 'final' } }, onDone: 'b' }), 'm.a', /`onDone`/],
    ['a nested final state', () => around({ initial: 'x', states: { x: { type: 'final' } } }), 'm.a.x', /nested final state/],
    ['the wildcard event', () => around({ on: { '*': 'b' } }), 'm.a', /wildcard event descriptor `\*`/],
    ['a partial wildcard', () => around({ on: { 'job.*': 'b' } }), 'm.a', /wildcard event descriptor `job\.\*`/],
    [
      'a higher-order guard (and)',
      () => around({ on: { GO: { target: 'b', guard: and([() => true, () => true]) } } }),
      'm.a',
      /higher-order guard/,
    ],
    ['a higher-order guard (not)', () => around({ on: { GO: { target: 'b', guard: not(() => false) } } }), 'm.a', /higher-order guard/],
    ['a raise', () => around({ entry: raise({ type: 'GO' }) }), 'm.a', /`raise`/],
    ['a delayed raise of ones own', () => around({ on: { GO: { actions: raise({ type: 'GO' }, { delay: 10 }) } } }), 'm.a', /`raise`/],
    ['a cancel of ones own', () => around({ on: { GO: { actions: cancel('mine') } } }), 'm.a', /`cancel`/],
    ['sendTo', () => around({ on: { GO: { actions: sendTo('other', { type: 'X' }) } } }), 'm.a', /xstate\.sendTo/],
    ['sendParent', () => around({ on: { GO: { actions: sendParent({ type: 'X' }) } } }), 'm.a', /xstate\.sendTo/],
    ['spawnChild', () => around({ on: { GO: { actions: spawnChild('child') } } }), 'm.a', /xstate\.spawnChild/],
    ['stopChild', () => around({ on: { GO: { actions: stopChild('c') } } }), 'm.a', /xstate\.stopChild/],
    ['emit', () => around({ on: { GO: { actions: emit({ type: 'X' }) } } }), 'm.a', /xstate\.emit/],
    ['log', () => around({ on: { GO: { actions: log('hello') } } }), 'm.a', /xstate\.log/],
    ['enqueueActions', () => around({ on: { GO: { actions: enqueueActions(() => {}) } } }), 'm.a', /xstate\.enqueueActions/],
  ];

  it.each(refusals)('%s, naming the state and the feature', (_, machine, state, words) => {
    const refuse = () => compileMachine(machine());
    expect(refuse).toThrow(UnsupportedMachineError);
    expect(refuse).toThrow(`state \`${state}\` uses`);
    expect(refuse).toThrow(words);
  });

  it('names a built-in action by the name setup gave it, and a higher-order guard by its name', () => {
    const named = setup({ actions: { shout: log('hi') } }).createMachine({
      id: 'm',
      initial: 'a',
      states: { a: { on: { GO: { actions: 'shout' } } } },
    });
    expect(() => compileMachine(named)).toThrow(/state `m\.a` uses the built-in action `shout` \(xstate\.log\)/);
    const guarded = setup({ guards: { yes: () => true, both: and(['yes', 'yes']) } }).createMachine({
      id: 'm',
      initial: 'a',
      states: { a: { on: { GO: { target: 'b', guard: 'both' } } }, b: {} },
    });
    expect(() => compileMachine(guarded)).toThrow(/state `m\.a` uses the higher-order guard `both`/);
  });

  it('refuses when the engine creates the runtime, before any task runs', () => {
    const machine = around({ always: { target: 'b' } }) as unknown as TaskMachine;
    expect(() => new CompiledRuntime(machine, new SimulatedClock())).toThrow(UnsupportedMachineError);
  });
});

// ---- Small machines on both runtimes ------------------------------------------------------------------------------

type Note = { readonly what: string; readonly count: number };
type DemoEvent =
  { type: 'GO' } | { type: 'BUMP'; by: number } | { type: 'REENTER' } | { type: 'RESTART' } | { type: 'TICK' } | { type: 'FINISH' };

/** Nested states, `after` (named and numeric delays), targetless transitions, reentering and not, params functions. */
const demo = setup({
  types: { context: {} as { count: number; trail: string }, events: {} as DemoEvent },
  actions: {
    note: (_, _params: Note) => {},
    bump: assign({ count: ({ context, event }) => context.count + (event.type === 'BUMP' ? event.by : 1) }),
    mark: assign(({ context }, params: { letter: string }) => ({ trail: context.trail + params.letter })),
  },
  guards: {
    small: ({ context }) => context.count < 3,
    atLeast: ({ context }, params: { min: number }) => context.count >= params.min,
  },
  delays: { later: ({ context }) => 100 * (context.count + 1) },
}).createMachine({
  id: 'demo',
  initial: 'idle',
  context: { count: 0, trail: '' },
  states: {
    idle: {
      entry: { type: 'note', params: ({ context }) => ({ what: 'enter idle', count: context.count }) },
      exit: { type: 'note', params: ({ context }) => ({ what: 'exit idle', count: context.count }) },
      on: { GO: 'active', BUMP: { actions: 'bump' } },
    },
    active: {
      initial: 'one',
      entry: [
        { type: 'mark', params: { letter: 'A' } },
        { type: 'note', params: ({ context }) => ({ what: 'enter active', count: context.count }) },
      ],
      exit: { type: 'note', params: ({ context }) => ({ what: 'exit active', count: context.count }) },
      after: { later: '#demo.idle' },
      on: {
        REENTER: { target: 'active', reenter: true, actions: { type: 'mark', params: { letter: 'R' } } },
        RESTART: { target: 'active', actions: { type: 'mark', params: { letter: 'S' } } },
        TICK: { target: '.two' },
        FINISH: { target: 'done', guard: { type: 'atLeast', params: ({ context }) => ({ min: context.trail.length > 3 ? 0 : 2 }) } },
      },
      states: {
        one: {
          entry: { type: 'note', params: ({ context }) => ({ what: 'enter one', count: context.count }) },
          after: { 50: 'two' },
          on: {
            BUMP: [
              { guard: 'small', actions: ['bump', { type: 'note', params: ({ context }) => ({ what: 'bumped', count: context.count }) }] },
              { target: 'two', actions: ({ context }) => void context },
            ],
          },
        },
        two: {
          entry: [
            { type: 'mark', params: { letter: '2' } },
            { type: 'note', params: ({ context }) => ({ what: 'enter two', count: context.count }) },
          ],
          exit: { type: 'note', params: ({ context }) => ({ what: 'exit two', count: context.count }) },
          on: { BUMP: { guard: ({ event }) => event.type === 'BUMP' && event.by > 0, actions: 'bump' } },
        },
      },
    },
    done: {
      type: 'final',
      entry: { type: 'note', params: ({ context }) => ({ what: 'enter done', count: context.count }) },
      exit: { type: 'note', params: ({ context }) => ({ what: 'exit done', count: context.count }) },
    },
  },
});

const ALL_EVENTS: readonly DemoEvent[] = [
  { type: 'GO' },
  { type: 'BUMP', by: 1 },
  { type: 'BUMP', by: 0 },
  { type: 'REENTER' },
  { type: 'RESTART' },
  { type: 'TICK' },
  { type: 'FINISH' },
];

type ScriptStep = DemoEvent | { readonly advance: number };

/** A clock on XState's SimulatedClock that also counts the timers pending. */
function countingClock(): Clock & { increment(ms: number): void; pending(): number } {
  const clock = new SimulatedClock();
  const live = new Set<number>();
  return {
    setTimeout(fn, ms) {
      const id: number = clock.setTimeout(() => {
        live.delete(id);
        fn();
      }, ms);
      live.add(id);
      return id;
    },
    clearTimeout(id) {
      live.delete(id as number);
      clock.clearTimeout(id as number);
    },
    increment: (ms) => clock.increment(ms),
    pending: () => live.size,
  };
}

/** What a run looks like after each step: its state, context, the notes taken, timers pending and what it can take. */
interface Frame {
  readonly value: StateValue;
  readonly context: unknown;
  readonly notes: readonly Note[];
  readonly pending: number;
  readonly can: readonly boolean[];
}

/** Anything with a TaskRun's shape, so one driver runs an XState actor or a compiled run. */
interface Run {
  start(): void;
  send(event: EventObject): void;
  getSnapshot(): { value: StateValue; context: unknown; can(event: never): boolean };
  stop(): void;
}

function xstateRun(machine: AnyStateMachine, clock: Clock): Run {
  return createActor(machine, { clock }) as unknown as Run;
}

function compiledRun(machine: AnyStateMachine, clock: Clock): Run {
  return new CompiledRuntime(machine as unknown as TaskMachine, clock).create({} as TaskMachineInput) as unknown as Run;
}

function play(runtime: typeof xstateRun, script: readonly ScriptStep[]): Frame[] {
  const notes: Note[] = [];
  const clock = countingClock();
  const run = runtime(demo.provide({ actions: { note: (_, params) => void notes.push(params) } }), clock);
  const frame = (): Frame => {
    const snapshot = run.getSnapshot();
    return {
      value: snapshot.value,
      context: snapshot.context,
      notes: notes.splice(0),
      pending: clock.pending(),
      can: ALL_EVENTS.map((event) => snapshot.can(event as never)),
    };
  };
  run.start();
  const frames = [frame()];
  for (const step of script) {
    if ('advance' in step) clock.increment(step.advance);
    else run.send(step);
    frames.push(frame());
  }
  return frames;
}

describe('a compiled run of a small machine behaves as an XState actor', () => {
  const scripts: [name: string, script: readonly ScriptStep[]][] = [
    [
      'targetless, guarded and nested transitions, then the inner timer',
      [
        { type: 'BUMP', by: 2 },
        { type: 'GO' },
        { type: 'BUMP', by: 1 },
        { type: 'BUMP', by: 1 },
        { advance: 49 },
        { advance: 1 },
        { type: 'BUMP', by: 0 },
        { type: 'BUMP', by: 5 },
        { type: 'FINISH' },
        { type: 'GO' },
        { advance: 1000 },
      ],
    ],
    [
      'a reentering self-transition restarts the outer timer; a plain one keeps it',
      [
        { type: 'GO' },
        { advance: 60 },
        { type: 'RESTART' },
        { advance: 30 },
        { type: 'REENTER' },
        { advance: 99 },
        { type: 'TICK' },
        { advance: 1 },
        { advance: 200 },
        { type: 'GO' },
      ],
    ],
    [
      'the guard params are computed from the context',
      [
        { type: 'GO' },
        { type: 'FINISH' },
        { type: 'REENTER' },
        { type: 'REENTER' },
        { type: 'FINISH' },
        { type: 'BUMP', by: 1 },
        { advance: 500 },
      ],
    ],
    [
      'the outer timer leaves the nested state',
      [
        { type: 'GO' },
        { type: 'BUMP', by: 1 },
        { type: 'BUMP', by: 1 },
        { type: 'BUMP', by: 1 },
        { type: 'BUMP', by: 1 },
        { advance: 399 },
        { advance: 1 },
        { type: 'GO' },
        { type: 'TICK' },
        { type: 'FINISH' },
      ],
    ],
  ];

  it.each(scripts)('%s', (_, script) => {
    const expected = play(xstateRun, script);
    expect(expected.some((frame) => frame.notes.length > 0)).toBe(true);
    expect(play(compiledRun, script)).toEqual(expected);
  });

  it('reaches the final state in the script that finishes, with no timer left and nothing taken after', () => {
    const frames = play(compiledRun, scripts[0]?.[1] ?? []);
    const done = frames.findIndex((frame) => frame.value === 'done');
    expect(done).toBeGreaterThan(0);
    expect(frames[done]?.notes.map((note) => note.what)).toEqual(['exit two', 'exit active', 'enter done', 'exit done']);
    for (const frame of frames.slice(done)) expect(frame).toMatchObject({ value: 'done', pending: 0, can: ALL_EVENTS.map(() => false) });
    expect(frames.slice(done + 1).flatMap((frame) => frame.notes)).toEqual([]);
  });
});

// ---- The run's mailbox, stop, and errors --------------------------------------------------------------------------

/** a --GO/kick--> b --NEXT--> c; `kick` sends NEXT to the run itself and records what the run showed then. */
function mailboxMachine(trail: string[], self: () => Run) {
  return setup({
    types: { events: {} as { type: 'GO' } | { type: 'NEXT' } },
    actions: {
      kick: () => {
        trail.push(`kick in ${JSON.stringify(self().getSnapshot().value)}`);
        self().send({ type: 'NEXT' });
        trail.push('kick sent NEXT');
      },
      enter: (_, params: { state: string }) => void trail.push(`enter ${params.state}`),
    },
  }).createMachine({
    id: 'mailbox',
    initial: 'a',
    states: {
      a: { on: { GO: { target: 'b', actions: 'kick' } } },
      b: { entry: { type: 'enter', params: { state: 'b' } }, on: { NEXT: 'c' } },
      c: { entry: { type: 'enter', params: { state: 'c' } }, on: { NEXT: 'a' } },
    },
  });
}

describe('a compiled run, like an actor', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it.each([
    ['xstate', xstateRun],
    ['compiled', compiledRun],
  ] as const)('processes an event sent from inside an action after the current one (%s)', (_, runtime) => {
    const trail: string[] = [];
    const run: Run = runtime(
      mailboxMachine(trail, () => run),
      new SimulatedClock(),
    );
    run.start();
    run.send({ type: 'GO' });
    expect(trail).toEqual(['kick in "a"', 'kick sent NEXT', 'enter b', 'enter c']);
    expect(run.getSnapshot().value).toBe('c');
  });

  it('processes events sent before start once it starts, in order', () => {
    const trail: string[] = [];
    const run = compiledRun(
      mailboxMachine(trail, () => run),
      new SimulatedClock(),
    );
    run.send({ type: 'GO' });
    expect(run.getSnapshot().value).toBe('a');
    run.start();
    expect(run.getSnapshot().value).toBe('c');
  });

  it('clears its timers when stopped, drops later events, and still answers can() by its state', () => {
    const stopped = [xstateRun, compiledRun].map((runtime) => {
      const notes: Note[] = [];
      const clock = countingClock();
      const run = runtime(demo.provide({ actions: { note: (_, params) => void notes.push(params) } }), clock);
      run.start();
      run.send({ type: 'GO' });
      expect(clock.pending()).toBe(2);
      run.stop();
      expect(clock.pending()).toBe(0);
      notes.length = 0;
      run.send({ type: 'TICK' });
      clock.increment(10_000);
      expect(notes).toEqual([]);
      const snapshot = run.getSnapshot();
      return { value: snapshot.value, can: ALL_EVENTS.map((event) => snapshot.can(event as never)) };
    });
    expect(stopped[0]).toMatchObject({ value: { active: 'one' }, can: expect.arrayContaining([true]) });
    expect(stopped[1]).toEqual(stopped[0]);
  });

  it('stops a run whose action throws, and throws the error on a later tick, as XState reports it', () => {
    vi.useFakeTimers({ toFake: ['setTimeout'] });
    const boom = new Error('boom');
    for (const runtime of [xstateRun, compiledRun]) {
      const clock = countingClock();
      const notes: string[] = [];
      const failing = demo.provide({
        actions: {
          note: (_, params) => {
            notes.push(params.what);
            if (params.what === 'enter two') throw boom;
          },
        },
      });
      const run = runtime(failing, clock);
      run.start();
      run.send({ type: 'GO' });
      expect(() => run.send({ type: 'TICK' })).not.toThrow();
      expect(run.getSnapshot().value).toEqual({ active: 'one' });
      expect(clock.pending()).toBe(0);
      expect(() => vi.runOnlyPendingTimers()).toThrow(boom);
      notes.length = 0;
      run.send({ type: 'REENTER' });
      expect(notes).toEqual([]);
    }
  });

  it('starts no timer in a step an action throws in, not even one it would clear again', () => {
    vi.useFakeTimers({ toFake: ['setTimeout'] });
    for (const runtime of [xstateRun, compiledRun]) {
      const clock = countingClock();
      let started = 0;
      const counting: Clock = {
        setTimeout: (fn, ms) => (started++, clock.setTimeout(fn, ms)),
        clearTimeout: (id) => clock.clearTimeout(id),
      };
      const failing = demo.provide({
        actions: {
          note: (_, params) => {
            if (params.what === 'enter one') throw new Error('boom'); // after `active` started its own timer in this step
          },
        },
      });
      const run = runtime(failing, counting);
      run.start();
      run.send({ type: 'GO' });
      expect(() => vi.runOnlyPendingTimers()).toThrow('boom');
      expect({ started, pending: clock.pending(), value: run.getSnapshot().value }).toEqual({ started: 0, pending: 0, value: 'idle' });
    }
  });

  // Found by property-tests/differential.test.ts (seed -516210867): the compiled run threw a guard's error out of
  // send() and stayed active, then answered can() false for everything once stopped. (The task machine's guard that
  // threw there, reading an error's `name`, no longer does: test/regressions/unreadable-error-name.test.ts.)
  it('stops a run whose guard throws, as XState stops its actor, and still answers can() by its state', () => {
    vi.useFakeTimers({ toFake: ['setTimeout'] });
    const guarded = setup({
      types: {} as { events: { type: 'GO' } | { type: 'STOP' } },
      guards: {
        explodes: () => {
          throw new Error('guard boom');
        },
      },
    }).createMachine({
      initial: 'idle',
      states: { idle: { on: { GO: { guard: 'explodes', target: 'done' }, STOP: 'done' } }, done: { type: 'final' } },
    });
    const outcomes = [xstateRun, compiledRun].map((create) => {
      const run = create(guarded, new SimulatedClock());
      run.start();
      expect(() => run.send({ type: 'GO' })).not.toThrow();
      let reported: unknown;
      try {
        vi.runOnlyPendingTimers();
      } catch (error) {
        reported = error;
      }
      run.send({ type: 'STOP' }); // dropped: the run stopped
      const snapshot = run.getSnapshot();
      return { value: snapshot.value, canStop: snapshot.can({ type: 'STOP' } as never), reported: (reported as Error).message };
    });
    expect(outcomes[0]).toEqual({ value: 'idle', canStop: true, reported: expect.stringContaining('guard boom') });
    expect(outcomes[1]).toEqual({ ...outcomes[0], reported: 'guard boom' });
  });
});
