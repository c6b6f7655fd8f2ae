/**
 * Counterexamples found by the fuzzed bad-input properties (property-tests/bad-input.test.ts),
 * kept as plain unit tests after the fix. Each names the seed and path fast-check reported;
 * they replay against the property file as it was when the bug was found.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { TaskEngine, type TaskEngineOptions } from '../../src/index.js';

const engines: TaskEngine[] = [];
afterEach(async () => {
  await Promise.all(engines.splice(0).map((engine) => engine.shutdown()));
});

function construct(options: unknown): unknown {
  try {
    engines.push(new TaskEngine(options as TaskEngineOptions));
    return undefined;
  } catch (error) {
    return error;
  }
}

const stubExecutor = (extra: Record<string, unknown>) => ({ execute: () => Promise.resolve(1), ...extra });
const throwingGetter = (key: string) =>
  Object.defineProperty({}, key, {
    enumerable: true,
    get() {
      throw new Error(`getter of ${key} threw`);
    },
  });
const revoked = () => {
  const { proxy, revoke } = Proxy.revocable(() => 1, {});
  revoke();
  return proxy;
};

describe('bad input found by the fuzzer, refused naming the field', () => {
  it.each([
    // seed -182828384: XState threw `?.bind is not a function` inside the constructor
    ['inspect', { inspect: { next: 42 } }],
    // seed 30911528: a raw TypeError at registerTask instead
    ['executors.remote.validate', { executors: { remote: stubExecutor({ validate: 0 }) } }],
    // seed 108454658: shutdown() rejected with a TypeError instead
    ['executors.remote.close', { executors: { remote: stubExecutor({ close: 1 }) } }],
    // a task on this executor stayed PENDING forever
    ['executors.remote.concurrency', { executors: { remote: stubExecutor({ concurrency: 0 }) } }],
    // seed 720463356: a throwing getter escaped as a raw Error
    ['resources', throwingGetter('resources')],
    // a revoked function proxy as `now` threw on first use
    ['now', { now: revoked() }],
  ])('refuses engine option %s with ERR_INVALID_OPTION', (field, options) => {
    const error = construct(options) as { code?: string; field?: string; message?: string };
    expect(error).toMatchObject({ code: 'ERR_INVALID_OPTION', field });
    expect(error.message).toContain(field.split('.').pop());
  });

  it('refuses a spec field whose getter throws, naming it (seed 589914589)', () => {
    const engine = new TaskEngine();
    engines.push(engine);
    const spec = Object.assign(throwingGetter('timeout'), { name: 'x', fn: () => 1 });
    expect(() => engine.registerTask(spec as never)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_OPTION', field: 'timeout' }));
    expect(engine.getStats().total).toBe(0);
  });

  it('refuses a file URL with a host as `module` (seed 1338318889: a raw TypeError: Invalid URL)', () => {
    const engine = new TaskEngine();
    engines.push(engine);
    expect(() => engine.registerTask({ name: 'x', module: 'file://host:1/x.mjs' })).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_OPTION', field: 'module' }),
    );
  });

  it('answers verbs given a revoked proxy as id with ERR_INVALID_OPTION on `id` (seed 933062694)', () => {
    const engine = new TaskEngine();
    engines.push(engine);
    for (const verb of ['startTask', 'cancelTask', 'getTask', 'getTaskStatus'] as const) {
      expect(() => (engine[verb] as (id: unknown) => unknown)(revoked())).toThrow(
        expect.objectContaining({ code: 'ERR_INVALID_OPTION', field: 'id' }),
      );
    }
  });

  it("refuses a spec when a custom executor's validate() throws, naming `executor`", () => {
    const engine = new TaskEngine({
      executors: {
        remote: stubExecutor({
          validate: () => {
            throw new Error('no');
          },
        }),
      },
    });
    engines.push(engine);
    expect(() => engine.registerTask({ name: 'x', executor: 'remote', handler: 'h' })).toThrow(
      expect.objectContaining({
        code: 'ERR_INVALID_OPTION',
        field: 'executor',
        message: expect.stringMatching(/`executor` \(`remote`\).*validate\(\) threw \(no\)/),
      }),
    );
  });

  it('hands out dependencies that cannot be changed (seed -991994812)', () => {
    const engine = new TaskEngine();
    engines.push(engine);
    engine.registerTask({ id: 'a', name: 'a', fn: () => 1 });
    engine.registerTask({ id: 'b', name: 'b', dependencies: ['a'], fn: () => 1 });
    const dependencies = engine.getTask('b').dependencies as string[];
    expect(() => dependencies.push('c')).toThrow(TypeError);
    expect(engine.getTask('b').dependencies).toEqual(['a']);
  });
});
