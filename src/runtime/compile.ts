/**
 * Compiles an XState v5 machine into a transition table, once, at start-up. The compiler reads the machine
 * XState built (its state nodes with their `on`, `after`, `entry`, `exit`, initial and final states) and the
 * implementations `setup` and `provide` gave it (guards, `assign` actions, named actions with their params,
 * delays). It restates nothing: change a transition in the machine and the table follows.
 *
 * The table has one row per leaf state (the configurations of a machine without parallel states), and per
 * event type the candidate transitions in the order XState tries them: the leaf's own, then its parent's, up
 * to the root; the first whose guard passes is taken. Each candidate carries its whole microstep as one
 * flat list of steps, in XState's order: the exit actions of the states it leaves (deepest first), the
 * transition's actions, then the entry actions of the states it enters (outermost first); a transition into
 * a top-level final state ends with the exit actions of the final configuration, as XState runs them when
 * the machine is done.
 *
 * Supported: atomic, compound and top-level final states; `on` and `after` transitions with string targets;
 * string, object and inline guards; `assign`, named and inline actions with static or computed params. Anything
 * else (`always`, history or parallel states, `invoke`, `onDone`, wildcard events, higher-order guards, built-in
 * actions other than `assign` and the timers of `after`) makes `compileMachine` throw, naming the state and the
 * feature, so a machine change that needs more is caught when the engine starts (and in CI), not while it runs.
 */
import type { AnyStateMachine, EventObject, StateValue } from 'xstate';

export interface ActionArgs {
  readonly context: Record<string, unknown>;
  readonly event: EventObject;
}
export type ActionFn = (args: ActionArgs, params: unknown) => void;
type GuardFn = (args: ActionArgs, params: unknown) => boolean;
type ParamsOf = ((args: ActionArgs) => unknown) | unknown;

/** One step of a microstep, resolved at compile time. */
export type Step =
  | { readonly kind: 'assign'; readonly assignment: unknown; readonly params: ParamsOf; readonly dynamic: boolean }
  | {
      readonly kind: 'exec';
      readonly type: string;
      readonly exec: ActionFn | undefined;
      readonly params: ParamsOf;
      readonly dynamic: boolean;
    }
  | {
      readonly kind: 'schedule';
      readonly id: string;
      readonly event: EventObject;
      readonly delay: string | number | ((args: ActionArgs, params: unknown) => number);
    }
  | { readonly kind: 'cancel'; readonly id: string };

export interface Candidate {
  readonly guard: GuardFn | undefined;
  readonly guardParams: ParamsOf;
  readonly guardDynamic: boolean;
  /** The leaf entered, or -1 for a targetless transition (actions only, no exit or entry). */
  readonly target: number;
  readonly steps: readonly Step[];
  /** Whether `can()` counts it: XState counts a transition that has a target or actions. */
  readonly counts: boolean;
}

export interface Leaf {
  /** The state value XState reports in this configuration (`'pending'`, `{ running: 'timed' }`); frozen, shared. */
  readonly value: StateValue;
  /** Entering it makes the machine done (a top-level final state). */
  readonly final: boolean;
  /** Candidates by event type, in the order XState tries them. */
  readonly on: ReadonlyMap<string, readonly Candidate[]>;
}

export interface CompiledMachine {
  readonly leaves: readonly Leaf[];
  readonly initial: Leaf;
  /** The entry actions of the initial configuration, run when the task starts. */
  readonly initialSteps: readonly Step[];
  /** The machine's context for `input`, as XState builds it. */
  context(input: unknown): Record<string, unknown>;
  readonly delays: Readonly<Record<string, unknown>>;
}

/** A machine that uses something the compiler does not support; the message names the state and the feature. */
export class UnsupportedMachineError extends Error {
  constructor(state: string, feature: string) {
    super(
      `Cannot compile the machine: state \`${state}\` uses ${feature}, which the compiled runtime does not support (use runtime: 'xstate', or extend src/runtime/compile.ts)`,
    );
    this.name = 'UnsupportedMachineError';
  }
}

/** The parts of XState's StateNode the compiler reads (public fields of the built machine). */
interface Node {
  readonly id: string;
  readonly key: string;
  readonly type: 'atomic' | 'compound' | 'parallel' | 'final' | 'history';
  readonly parent: Node | undefined;
  readonly order: number;
  readonly states: Record<string, Node>;
  readonly entry: readonly unknown[];
  readonly exit: readonly unknown[];
  readonly always?: readonly unknown[] | undefined;
  readonly invoke: readonly unknown[];
  readonly initial: { readonly target: readonly Node[]; readonly actions: readonly unknown[] } | undefined;
  readonly transitions: ReadonlyMap<string, readonly Transition[]>;
  readonly config: { readonly onDone?: unknown; readonly tags?: unknown };
  readonly output?: unknown;
}

interface Transition {
  readonly target: readonly Node[] | undefined;
  readonly source: Node;
  readonly actions: readonly unknown[];
  readonly guard: unknown;
  readonly reenter: boolean;
  readonly eventType: string;
}

interface Builtin {
  readonly type: string;
  readonly resolve: unknown;
  readonly assignment?: unknown;
  readonly event?: unknown;
  readonly id?: unknown;
  readonly delay?: unknown;
  readonly sendId?: unknown;
}

/** Compiles `machine` (with whatever implementations `provide` gave it) into a table. */
export function compileMachine(machine: AnyStateMachine): CompiledMachine {
  const root = machine.root as unknown as Node;
  const implementations = machine.implementations as {
    actions: Record<string, unknown>;
    guards: Record<string, unknown>;
    delays: Record<string, unknown>;
  };
  const all: Node[] = [];
  collect(root, all);
  for (const node of all) checkNode(node);
  const resolveActions = (actions: readonly unknown[], node: Node): Step[] =>
    actions.map((action) => resolveAction(action, node, implementations.actions));
  // Every state's own actions are checked, whether or not a transition enters it.
  for (const node of all) resolveActions([...node.entry, ...node.exit], node);
  const leafNodes = all.filter((node) => node.type === 'atomic' || node.type === 'final');
  const indexOf = new Map<Node, number>(leafNodes.map((node, index) => [node, index]));
  const leaves: Leaf[] = leafNodes.map((node) => ({
    value: Object.freeze(valueOf(node, root)) as StateValue,
    final: node.type === 'final' && node.parent === root,
    on: new Map(),
  }));
  for (const leafNode of leafNodes) {
    const on = (leaves[indexOf.get(leafNode) as number] as Leaf).on as Map<string, Candidate[]>;
    if (leafNode.type === 'final' && leafNode.parent === root) continue; // the machine is done: no event is taken
    for (const node of [leafNode, ...properAncestors(leafNode, undefined)]) {
      for (const [eventType, transitions] of node.transitions) {
        if (eventType.includes('*')) throw new UnsupportedMachineError(node.id, `the wildcard event descriptor \`${eventType}\``);
        let candidates = on.get(eventType);
        if (candidates === undefined) on.set(eventType, (candidates = []));
        for (const transition of transitions)
          candidates.push(compileTransition(transition, leafNode, root, indexOf, implementations.guards, resolveActions));
      }
    }
  }
  const initialPath = [root, ...initialDescendants(root)];
  const initialLeaf = initialPath[initialPath.length - 1] as Node;
  const initialSteps = initialPath.flatMap((node) => resolveActions(node.entry, node));
  const contextConfig = (machine.config as { context?: unknown }).context;
  return {
    leaves,
    initial: leaves[indexOf.get(initialLeaf) as number] as Leaf,
    initialSteps,
    delays: implementations.delays,
    context: (input) =>
      typeof contextConfig === 'function'
        ? // A copy by spread: V8 keeps it a fast object (Object.assign into `{}` of 20 properties made a dictionary, ~700 B more).
          {
            ...(contextConfig as (args: { input: unknown; self: undefined; spawn: () => never }) => Record<string, unknown>)({
              input,
              self: undefined,
              spawn: noSpawn,
            }),
          }
        : ((contextConfig ?? {}) as Record<string, unknown>),
  };
}

function noSpawn(): never {
  throw new UnsupportedMachineError('(context)', '`spawn` in the context factory');
}

function collect(node: Node, into: Node[]): void {
  into.push(node);
  for (const child of Object.values(node.states)) collect(child, into);
}

/** Refuses the features the table does not model, naming the state. */
function checkNode(node: Node): void {
  if (node.type === 'parallel') throw new UnsupportedMachineError(node.id, 'a parallel state (`type: "parallel"`)');
  if (node.type === 'history') throw new UnsupportedMachineError(node.id, 'a history state (`type: "history"`)');
  if (node.always !== undefined && node.always.length > 0) throw new UnsupportedMachineError(node.id, 'eventless transitions (`always`)');
  if (node.invoke.length > 0) throw new UnsupportedMachineError(node.id, 'invoked actors (`invoke`)');
  if (node.config.onDone !== undefined) throw new UnsupportedMachineError(node.id, '`onDone`');
  if (node.type === 'final' && node.parent !== undefined && node.parent.parent !== undefined) {
    throw new UnsupportedMachineError(node.id, 'a nested final state (its done event)');
  }
  if (node.initial !== undefined && node.initial.actions.length > 0)
    throw new UnsupportedMachineError(node.id, 'actions on its initial transition');
}

function compileTransition(
  transition: Transition,
  leaf: Node,
  root: Node,
  indexOf: ReadonlyMap<Node, number>,
  guards: Record<string, unknown>,
  resolveActions: (actions: readonly unknown[], node: Node) => Step[],
): Candidate {
  const { guard, guardParams, guardDynamic } = resolveGuard(transition.guard, transition.source, guards);
  const actions = resolveActions(transition.actions, transition.source);
  const targets = transition.target;
  if (targets === undefined || targets.length === 0) {
    return { guard, guardParams, guardDynamic, target: -1, steps: actions, counts: actions.length > 0 };
  }
  if (targets.length > 1)
    throw new UnsupportedMachineError(transition.source.id, `a transition on \`${transition.eventType}\` with several targets`);
  const target = targets[0] as Node;
  const domain = transitionDomain(transition, target);
  // Exit: the active states inside the domain (and the domain itself when a reentering transition leaves its source), deepest first.
  const active = [leaf, ...properAncestors(leaf, undefined)];
  const exits = active.filter(
    (node) => domain === undefined || isDescendant(node, domain) || (transition.reenter && transition.source === domain && node === domain),
  );
  exits.sort((a, b) => b.order - a.order);
  // Entry: the target (unless a non-reentering transition stays in its own source), its ancestors inside the domain, and its initial descendants; outermost first.
  const entries = new Set<Node>();
  if (target !== transition.source || transition.source !== domain || transition.reenter) entries.add(target);
  for (const node of initialDescendants(target)) entries.add(node);
  const reentrancyDomain = transition.source.parent === undefined && transition.reenter ? undefined : domain;
  for (const ancestor of properAncestors(target, domain))
    if (reentrancyDomain === undefined || isDescendant(ancestor, reentrancyDomain)) entries.add(ancestor);
  const entered = [...entries].sort((a, b) => a.order - b.order);
  const leafEntered = entered.length > 0 ? (entered[entered.length - 1] as Node) : leafOf(target);
  const steps = [
    ...exits.flatMap((node) => resolveActions(node.exit, node)),
    ...actions,
    ...entered.flatMap((node) => resolveActions(node.entry, node)),
  ];
  const reached = leafOf(leafEntered);
  if (reached.type === 'final' && reached.parent === root) {
    // Done: XState runs the exit actions of the whole final configuration.
    const configuration = [reached, ...properAncestors(reached, undefined)].sort((a, b) => b.order - a.order);
    steps.push(...configuration.flatMap((node) => resolveActions(node.exit, node)));
  }
  return { guard, guardParams, guardDynamic, target: indexOf.get(reached) as number, steps, counts: true };
}

/** XState's transition domain (SCXML): the source for an internal transition to itself or a descendant, else the least common ancestor. */
function transitionDomain(transition: Transition, target: Node): Node | undefined {
  if (!transition.reenter && (target === transition.source || isDescendant(target, transition.source))) return transition.source;
  for (const ancestor of properAncestors(transition.source, undefined)) if (isDescendant(target, ancestor)) return ancestor;
  return transition.reenter ? undefined : rootOf(transition.source);
}

function rootOf(node: Node): Node {
  let current = node;
  while (current.parent !== undefined) current = current.parent;
  return current;
}

function leafOf(node: Node): Node {
  const descendants = initialDescendants(node);
  return descendants.length > 0 ? (descendants[descendants.length - 1] as Node) : node;
}

/** The states entered by default below a compound `node`: its initial child, that child's, and so on. */
function initialDescendants(node: Node): Node[] {
  const path: Node[] = [];
  let current = node;
  while (current.type === 'compound') {
    current = (current.initial as { target: readonly Node[] }).target[0] as Node;
    path.push(current);
  }
  return path;
}

/** Ancestors of `node`, nearest first, up to (not including) `until`. */
function properAncestors(node: Node, until: Node | undefined): Node[] {
  const ancestors: Node[] = [];
  let current = node.parent;
  while (current !== undefined && current !== until) {
    ancestors.push(current);
    current = current.parent;
  }
  return ancestors;
}

function isDescendant(node: Node, ancestor: Node): boolean {
  let current = node.parent;
  while (current !== undefined) {
    if (current === ancestor) return true;
    current = current.parent;
  }
  return false;
}

function valueOf(leaf: Node, root: Node): StateValue {
  const path = [leaf, ...properAncestors(leaf, root)].reverse().map((node) => node.key);
  let value: StateValue = path[path.length - 1] as string;
  for (let i = path.length - 2; i >= 0; i--) value = { [path[i] as string]: value };
  return value;
}

function resolveGuard(
  guard: unknown,
  source: Node,
  guards: Record<string, unknown>,
): { guard: GuardFn | undefined; guardParams: ParamsOf; guardDynamic: boolean } {
  if (guard === undefined) return { guard: undefined, guardParams: undefined, guardDynamic: false };
  if (typeof guard === 'function') {
    if ('check' in guard) throw new UnsupportedMachineError(source.id, 'a higher-order guard (and/or/not/stateIn)');
    return { guard: guard as GuardFn, guardParams: undefined, guardDynamic: false };
  }
  const type = typeof guard === 'string' ? guard : (guard as { type: string }).type;
  const implementation = guards[type];
  if (typeof implementation !== 'function')
    throw new UnsupportedMachineError(source.id, `the guard \`${type}\`, which has no function implementation`);
  if ('check' in implementation) throw new UnsupportedMachineError(source.id, `the higher-order guard \`${type}\``);
  const params = typeof guard === 'object' && guard !== null && 'params' in guard ? (guard as { params: unknown }).params : undefined;
  return { guard: implementation as GuardFn, guardParams: params, guardDynamic: typeof params === 'function' };
}

function resolveAction(action: unknown, node: Node, actions: Record<string, unknown>): Step {
  if (typeof action === 'function' && !('resolve' in action)) {
    return { kind: 'exec', type: action.name || '(anonymous)', exec: action as ActionFn, params: undefined, dynamic: false };
  }
  if (typeof action === 'function') return resolveBuiltin(action as unknown as Builtin, undefined, node);
  const type = typeof action === 'string' ? action : (action as { type: string }).type;
  const params = typeof action === 'object' && action !== null && 'params' in action ? (action as { params: unknown }).params : undefined;
  const implementation = actions[type];
  if (typeof implementation === 'function' && 'resolve' in implementation)
    return resolveBuiltin(implementation as unknown as Builtin, params, node, type);
  // Like XState, a named action with no implementation is a no-op that still counts as an action.
  return { kind: 'exec', type, exec: implementation as ActionFn | undefined, params, dynamic: typeof params === 'function' };
}

function resolveBuiltin(builtin: Builtin, params: unknown, node: Node, name = builtin.type): Step {
  switch (builtin.type) {
    case 'xstate.assign':
      return { kind: 'assign', assignment: builtin.assignment, params, dynamic: typeof params === 'function' };
    case 'xstate.raise': {
      // Only the timers `after` creates: a raise with a delay and the after event's own id.
      const event = builtin.event as EventObject | undefined;
      if (
        typeof event !== 'object' ||
        builtin.delay === undefined ||
        builtin.id !== event.type ||
        !event.type.startsWith('xstate.after.')
      ) {
        throw new UnsupportedMachineError(node.id, 'the built-in action `raise` (only the timers of `after` are supported)');
      }
      return { kind: 'schedule', id: event.type, event, delay: builtin.delay as string | number };
    }
    case 'xstate.cancel':
      if (typeof builtin.sendId !== 'string' || !builtin.sendId.startsWith('xstate.after.')) {
        throw new UnsupportedMachineError(node.id, 'the built-in action `cancel` (only the timers of `after` are supported)');
      }
      return { kind: 'cancel', id: builtin.sendId };
    default:
      throw new UnsupportedMachineError(node.id, `the built-in action \`${name}\` (${builtin.type})`);
  }
}

/** The params of a step, resolved against the current context and event when they are computed. */
export function paramsOf(params: ParamsOf, dynamic: boolean, args: ActionArgs): unknown {
  return dynamic ? (params as (args: ActionArgs) => unknown)(args) : params;
}
