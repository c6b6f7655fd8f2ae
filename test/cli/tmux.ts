/**
 * A detached tmux session as a test's terminal: type into it, read its screen, and wait until the screen shows
 * something (polled with a deadline: a screen has no events to await). Without tmux the tests are skipped, except
 * under CI (`process.env.CI`), where .ci/run installs tmux and its absence fails them.
 */
import { execFileSync, spawnSync } from 'node:child_process';

export const hasTmux = spawnSync('tmux', ['-V']).status === 0;

/** Skip the suite only outside CI; under CI a missing tmux is a failure (see {@link requireTmux}). */
export const skipWithoutTmux = !hasTmux && !process.env.CI;

/** A suite's title, saying when it is skipped. */
export const tmuxTitle = (title: string): string => (skipWithoutTmux ? `${title} (skipped: tmux is not installed)` : title);

/** Throws under CI when tmux is missing: the terminal tests must run there. */
export function requireTmux(): void {
  if (!hasTmux)
    throw new Error('tmux is not installed, and CI is set: the terminal tests must run (apt-get install -y tmux; .ci/run installs it)');
}

export class TmuxSession {
  constructor(readonly name: string) {}

  /** Starts the session with a shell (or `command`) in a `columns` × `rows` pane. */
  start(columns: number, rows: number, command = 'bash --norc --noprofile'): void {
    this.run('new-session', '-d', '-s', this.name, '-x', String(columns), '-y', String(rows), command);
  }

  /** Types `line` and Enter. */
  type(line: string): void {
    this.run('send-keys', '-t', this.name, line, 'Enter');
  }

  keys(...keys: string[]): void {
    this.run('send-keys', '-t', this.name, ...keys);
  }

  /** The visible screen, or with `history` the whole pane, scrollback included, wrapped lines joined. */
  screen({ history = false }: { history?: boolean } = {}): string {
    return history ? this.run('capture-pane', '-p', '-J', '-S', '-', '-t', this.name) : this.run('capture-pane', '-p', '-t', this.name);
  }

  /** Resolves with the screen once `shows(screen)` holds; throws with the last screen after `timeoutMs`. */
  async until(shows: (text: string) => boolean, what: string, options: { timeoutMs?: number; history?: boolean } = {}): Promise<string> {
    const deadline = Date.now() + (options.timeoutMs ?? 20_000);
    for (;;) {
      const text = this.screen(options);
      if (shows(text)) return text;
      if (Date.now() > deadline) throw new Error(`the screen never showed ${what}; it shows:\n${text}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  kill(): void {
    spawnSync('tmux', ['kill-session', '-t', this.name]);
  }

  run(...args: string[]): string {
    return execFileSync('tmux', args, { encoding: 'utf8' });
  }
}
