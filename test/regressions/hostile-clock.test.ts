import { describe, expect, it } from 'vitest';
import { TaskEngine } from '../../src/index.js';

/** A function Proxy whose every trap throws: `typeof` says function, but it cannot be called or even bound. */
function throwingFunction(): () => void {
  const trap = () => {
    throw new Error('hostile trap');
  };
  return new Proxy(() => {}, { get: trap, apply: trap, getOwnPropertyDescriptor: trap, has: trap, ownKeys: trap, getPrototypeOf: trap });
}

describe('a clock whose functions cannot be used', () => {
  // Found by property-tests/bad-input.test.ts (a rare seed): such a clock was accepted, and its setTimeout threw later
  // from inside a transition (retention arming its timer when a task finished), as a raw uncaught error.
  it('is refused at construction with ERR_INVALID_OPTION naming `clock`, not met later inside a transition', () => {
    const clock = { setTimeout: throwingFunction(), clearTimeout: () => {} };
    expect(() => new TaskEngine({ clock: clock as never, retention: { finishedTtl: 10 } })).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_OPTION', field: 'clock' }),
    );
  });
});
