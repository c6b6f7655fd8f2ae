/**
 * A plain description of a statechart read from its definition (states,
 * transitions with events, guards and actions), rendered as a mermaid
 * diagram or a markdown transition table. The README's status diagram,
 * docs/task-lifecycle.md and the dashboard's statechart view come from here,
 * so they cannot drift from the machine.
 */
import type { AnyStateMachine, AnyStateNode } from 'xstate';

export interface StateDescription {
  /** Path below the root, e.g. `running.timed`. */
  readonly path: string;
  readonly type: string;
  /** The initial child's path, for compound states. */
  readonly initial: string | undefined;
}

export interface TransitionDescription {
  readonly source: string;
  /** Target state path; undefined for a transition that stays (an internal update). */
  readonly target: string | undefined;
  /** The event type; delayed transitions read `after <delay>`. */
  readonly event: string;
  readonly guard: string | undefined;
  readonly actions: readonly string[];
}

export interface MachineDescription {
  readonly id: string;
  readonly states: readonly StateDescription[];
  readonly transitions: readonly TransitionDescription[];
}

export function describeMachine(machine: AnyStateMachine): MachineDescription {
  const states: StateDescription[] = [];
  const transitions: TransitionDescription[] = [];
  const rootId = machine.root.id;
  const pathOf = (node: AnyStateNode) => node.id.slice(rootId.length + 1);
  const visit = (node: AnyStateNode) => {
    for (const child of Object.values(node.states) as AnyStateNode[]) {
      const initial = child.initial?.target?.[0];
      states.push({ path: pathOf(child), type: child.type, initial: initial ? pathOf(initial) : undefined });
      for (const [eventType, definitions] of child.transitions) {
        for (const definition of definitions) {
          transitions.push({
            source: pathOf(child),
            target: definition.target?.[0] ? pathOf(definition.target[0]) : undefined,
            event: eventLabel(eventType),
            guard: nameOf(definition.guard),
            actions: definition.actions.map((action: unknown) => nameOf(action) ?? 'inline'),
          });
        }
      }
      visit(child);
    }
  };
  visit(machine.root);
  return { id: rootId, states, transitions };
}

/** Renders a mermaid `stateDiagram-v2`; `labels` adds a note per top-level state (e.g. its public status). */
export function toMermaid(description: MachineDescription, labels: Readonly<Record<string, string>> = {}): string {
  const lines = ['stateDiagram-v2', `  [*] --> ${description.states[0]?.path ?? ''}`];
  const topLevel = description.states.filter((s) => !s.path.includes('.'));
  for (const state of topLevel) {
    const label = labels[state.path];
    if (label !== undefined) lines.push(`  ${state.path}: ${state.path} (${label})`);
    const children = description.states.filter((s) => s.path.startsWith(`${state.path}.`));
    if (children.length > 0) {
      lines.push(`  state ${state.path} {`);
      if (state.initial) lines.push(`    [*] --> ${leaf(state.initial)}`);
      for (const child of children) lines.push(`    ${leaf(child.path)}`);
      lines.push('  }');
    }
    if (state.type === 'final') lines.push(`  ${state.path} --> [*]`);
  }
  for (const t of description.transitions) {
    if (t.target === undefined) continue;
    const sameParent = t.source.includes('.') && t.target.startsWith(`${t.source.split('.')[0]}.`);
    const from = t.source.includes('.') && !sameParent ? t.source.split('.')[0] : t.source;
    const to = t.target.includes('.') && !t.source.startsWith(t.target.split('.')[0] as string) ? t.target.split('.')[0] : t.target;
    lines.push(`  ${leafIfNested(from as string)} --> ${leafIfNested(to as string)}: ${t.event}${t.guard ? ` [${t.guard}]` : ''}`);
  }
  return `${lines.join('\n')}\n`;
}

/** Renders every transition as a markdown table row. */
export function toTransitionTable(description: MachineDescription): string {
  const rows = ['| from | event | guard | to | actions |', '| --- | --- | --- | --- | --- |'];
  for (const t of description.transitions) {
    const actions = t.actions.filter((a) => a !== 'xstate.assign' || t.actions.length === 1);
    rows.push(`| ${t.source} | \`${t.event}\` | ${t.guard ?? ''} | ${t.target ?? '(stays)'} | ${actions.join(', ')} |`);
  }
  return `${rows.join('\n')}\n`;
}

function eventLabel(eventType: string): string {
  const delayed = /^xstate\.after\.([^.]+)\./.exec(eventType);
  return delayed ? `after ${delayed[1]}` : eventType;
}

function nameOf(value: unknown): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'string') return value;
  if (typeof value === 'object' && 'type' in value && typeof value.type === 'string') return value.type;
  if (typeof value === 'function') return value.name && value.name !== 'anonymous' ? value.name : 'inline';
  return undefined;
}

const leaf = (path: string) => path.split('.').pop() as string;
const leafIfNested = (path: string) => (path.includes('.') ? leaf(path) : path);
