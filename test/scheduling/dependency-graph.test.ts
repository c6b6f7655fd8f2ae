import { describe, expect, it } from 'vitest';
import { DependencyGraph, findCycle } from '../../src/scheduling/dependency-graph.js';

describe('findCycle', () => {
  it('finds no cycle in a DAG, edges to outside the batch included', () => {
    const batch = new Map([
      ['a', []],
      ['b', ['a', 'outside']],
      ['c', ['a', 'b']],
    ]);
    expect(findCycle(batch)).toBeUndefined();
  });

  it('names the ids of a cycle, closing it with its first id', () => {
    const batch = new Map([
      ['a', ['c']],
      ['b', ['a']],
      ['c', ['b']],
      ['d', []],
    ]);
    const cycle = findCycle(batch) as string[];
    expect(cycle[0]).toBe(cycle[cycle.length - 1]);
    expect(new Set(cycle)).toEqual(new Set(['a', 'b', 'c']));
  });

  it('does not take an edge to a task outside the batch for an edge to the first task of the batch', () => {
    const batch = new Map([
      ['a', ['b']],
      ['b', ['outside']],
    ]);
    expect(findCycle(batch)).toBeUndefined();
  });

  it('finds no cycle in a batch without edges inside it', () => {
    expect(
      findCycle(
        new Map([
          ['a', []],
          ['b', ['outside']],
        ]),
      ),
    ).toBeUndefined();
    expect(findCycle(new Map())).toBeUndefined();
  });

  it('treats a task depending on itself as a cycle', () => {
    expect(findCycle(new Map([['a', ['a']]]))).toEqual(['a', 'a']);
  });

  it('checks a 100,000-task chain without overflowing the stack', () => {
    const batch = new Map<string, string[]>();
    for (let i = 0; i < 100_000; i++) batch.set(`t${i}`, i === 0 ? [] : [`t${i - 1}`]);
    expect(findCycle(batch)).toBeUndefined();
    batch.set('t0', ['t99999']);
    expect(findCycle(batch)?.length).toBe(100_001);
  });
});

describe('DependencyGraph', () => {
  it("lists dependents, and keeps a forgotten task's dependents until they are forgotten too", () => {
    const graph = new DependencyGraph();
    graph.add('b', ['a']);
    graph.add('c', ['a', 'b']);
    expect([...graph.dependentsOf('a')]).toEqual(['b', 'c']);
    graph.remove('a', []);
    expect(graph.isReferenced('a')).toBe(true);
    graph.remove('c', ['a', 'b']);
    expect([...graph.dependentsOf('a')]).toEqual(['b']);
    expect([...graph.dependentsOf('b')]).toEqual([]);
    graph.remove('b', ['a']);
    expect(graph.isReferenced('a')).toBe(false);
  });

  it('forgets a dependent listed twice, or never added, without error', () => {
    const graph = new DependencyGraph();
    graph.add('b', ['a', 'a']);
    expect([...graph.dependentsOf('a')]).toEqual(['b']);
    graph.remove('b', ['a', 'a']);
    graph.remove('never-added', ['a', 'z']);
    expect(graph.isReferenced('a')).toBe(false);
    expect([...graph.dependentsOf('a')]).toEqual([]);
  });

  // Quadratic removal (indexOf + splice) takes about a minute here at this size.
  it('forgets dependents of a hub in any order in linear time', { timeout: 5000 }, () => {
    const graph = new DependencyGraph();
    const n = 200_000;
    for (let i = 0; i < n; i++) graph.add(`d${i}`, ['hub']);
    for (let i = n - 1; i >= 0; i--) graph.remove(`d${i}`, ['hub']);
    expect(graph.isReferenced('hub')).toBe(false);
  });
});
