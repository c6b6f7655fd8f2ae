/**
 * The generated parts of the README and docs/task-lifecycle.md, from the task
 * machine itself. `npm run docs` writes them; a test fails when they are stale.
 */
import { STATUS_OF_STATE, taskMachine } from '../machines/task.machine.js';
import { describeMachine, toMermaid, toTransitionTable } from './statechart.js';

export const GENERATED_BEGIN = '<!-- generated from src/machines/task.machine.ts by `npm run docs`: do not edit -->';
export const GENERATED_END = '<!-- end of generated part -->';

export function taskStatusDiagram(): string {
  return `\`\`\`mermaid\n${toMermaid(describeMachine(taskMachine), STATUS_OF_STATE)}\`\`\`\n`;
}

export function taskTransitionTable(): string {
  return toTransitionTable(describeMachine(taskMachine));
}

/** Replaces the generated part between the markers of `text` with `generated`. */
export function replaceGenerated(text: string, generated: string): string {
  const begin = text.indexOf(GENERATED_BEGIN);
  const end = text.indexOf(GENERATED_END);
  if (begin === -1 || end === -1 || end < begin) throw new Error('generated-part markers not found');
  return `${text.slice(0, begin + GENERATED_BEGIN.length)}\n${generated}${text.slice(end)}`;
}
