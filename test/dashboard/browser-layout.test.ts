/**
 * The dashboard as a user sees it at 1400×900, in Chromium: a graph the size of the demo's fits the view, the
 * statechart fits the detail panel, the chart spans the page with a scale, failed and cancelled branches stand out,
 * priorities read as names, a forgotten start shows as stalled, and nothing goes wrong in the console. Saves the
 * README's screenshots (to docs/images with UPDATE_SCREENSHOTS=1, else to test/artifacts).
 */
import type { Browser, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { serveDashboard, type Dashboard } from '../../src/dashboard/index.js';
import { TaskEngine, TaskPriority, type TaskSpec } from '../../src/index.js';
import { SCREENSHOT_VIEWPORT, detailField, launchChromium, nodeOf, saveScreenshot, watchProblems, whenRunning } from './chromium.js';

const REGIONS = {
  north: ['oslo', 'bergen', 'stockholm', 'helsinki', 'copenhagen', 'tallinn'],
  south: ['madrid', 'seville', 'lisbon', 'rome', 'athens', 'valletta'],
};
const CITIES = [...REGIONS.north, ...REGIONS.south];
const STILL_RUNNING: Record<string, [number, string]> = {
  helsinki: [0.5, 'bootstrap 2000/4000'],
  stockholm: [0.75, 'bootstrap 3000/4000'],
  lisbon: [0.25, 'bootstrap 1000/4000'],
};

let browser: Browser;
let engine: TaskEngine | undefined;
let dashboard: Dashboard | undefined;
let page: Page | undefined;
beforeAll(async () => {
  browser = await launchChromium();
}, 60_000);
afterAll(async () => {
  await browser?.close();
});
afterEach(async () => {
  await page?.close();
  await dashboard?.close();
  await engine?.shutdown();
  page = dashboard = engine = undefined;
});

/** The demo's graph (fetch → parse → extract → report per region, an archive branch) as external tasks this test drives. */
function demoGraph(): TaskSpec[] {
  const specs: TaskSpec[] = [];
  for (const city of CITIES) {
    const priority = city === 'bergen' || city === 'seville' ? TaskPriority.NORMAL : TaskPriority.HIGH;
    specs.push({ id: `fetch:${city}`, name: `fetch:${city}`, priority });
    specs.push({ id: `parse:${city}`, name: `parse:${city}`, priority, dependencies: [`fetch:${city}`] });
    specs.push({ id: `extract:${city}`, name: `extract:${city}`, priority, dependencies: [`parse:${city}`] });
  }
  for (const [region, cities] of Object.entries(REGIONS))
    specs.push({ id: `report:${region}`, name: `report:${region}`, dependencies: cities.map((c) => `extract:${c}`) });
  specs.push({ id: 'archive:snapshot', name: 'archive:snapshot', priority: TaskPriority.LOW });
  specs.push({ id: 'upload:archive', name: 'upload:archive', priority: TaskPriority.LOW, dependencies: ['archive:snapshot'] });
  return specs;
}

/** Runs the demo's graph to the point of the README's screenshot: seville's branch failed, archive cancelled, three extracts running. */
async function runDemo(e: TaskEngine): Promise<void> {
  for (const spec of demoGraph()) e.startTask(spec.id as string);
  for (const city of CITIES) {
    if (city === 'seville') {
      e.failTask('fetch:seville', new Error('Task `fetch:seville` timed out after 15000 ms'));
      continue;
    }
    e.updateTaskProgress(`fetch:${city}`, 0.6, 'downloading');
    e.completeTask(`fetch:${city}`, `${city}.csv`);
    await whenRunning(e, `parse:${city}`);
    e.updateTaskProgress(`parse:${city}`, 0.4, 'parsing');
    e.completeTask(`parse:${city}`, `${city}.json`);
    await whenRunning(e, `extract:${city}`);
    const running = STILL_RUNNING[city];
    if (running) e.updateTaskProgress(`extract:${city}`, ...running);
    else e.completeTask(`extract:${city}`, 12);
  }
  e.updateTaskProgress('archive:snapshot', 0.05, 'archived 5%');
  e.cancelTask('archive:snapshot', 'not needed for this run');
}

async function openDashboard(e: TaskEngine): Promise<{ page: Page; problems: string[] }> {
  dashboard = await serveDashboard(e, { port: 0 });
  page = await browser.newPage({ viewport: SCREENSHOT_VIEWPORT });
  const problems = watchProblems(page);
  await page.goto(dashboard.url);
  await page.locator('#conn', { hasText: 'live' }).waitFor();
  return { page, problems };
}

/** Where an element's box lies relative to a container's visible box (px; negative: outside). */
function boxesOf(p: Page, selector: string, container: string) {
  return p.evaluate(
    ([sel, box]) => {
      const doc = (globalThis as unknown as { document: { querySelector(s: string): DomEl; querySelectorAll(s: string): DomEl[] } })
        .document;
      const c = doc.querySelector(box);
      const r = c.getBoundingClientRect();
      const right = r.left + c.clientWidth;
      const bottom = r.top + c.clientHeight;
      return [...doc.querySelectorAll(sel)].map((el) => {
        const b = el.getBoundingClientRect();
        return {
          left: b.left - r.left,
          top: b.top - r.top,
          right: right - b.right,
          bottom: bottom - b.bottom,
          width: b.width,
          height: b.height,
        };
      });
    },
    [selector, container] as const,
  );
}
interface DomEl {
  getBoundingClientRect(): { left: number; top: number; right: number; bottom: number; width: number; height: number };
  clientWidth: number;
  clientHeight: number;
}

describe('the dashboard at 1400×900', () => {
  it('fits the demo graph in view, colours failed and cancelled branches, and fits the statechart in the detail panel', async () => {
    engine = new TaskEngine({ concurrency: 50 });
    const { page: p, problems } = await openDashboard(engine);
    engine.registerTasks(demoGraph());
    await runDemo(engine);
    await expect.poll(() => p.locator('#counts').textContent()).toMatch(/WAITING 1.*RUNNING 3.*COMPLETED 30.*FAILED 4.*CANCELLED 2/);
    await expect.poll(() => p.locator('g.node').count()).toBe(40);
    await expect.poll(() => p.locator('path.edge').count()).toBe(12 * 2 + 12 + 1); // laid out with the dependencies

    // All 40 nodes are inside the view, none cut at an edge, none over another.
    const nodes = await boxesOf(p, 'g.node rect.box', '#view');
    expect(nodes).toHaveLength(40);
    for (const n of nodes) expect(Math.min(n.left, n.top, n.right, n.bottom)).toBeGreaterThanOrEqual(0);
    expect(Number(await p.locator('#graph svg').getAttribute('data-scale'))).toBeGreaterThanOrEqual(0.6);

    // A failed branch is red (node and the edges into it), a cancelled one grey and dashed; neither is pale.
    const look = (id: string) =>
      nodeOf(p, id)
        .locator('rect.box')
        .evaluate((box) => {
          const style = (
            globalThis as unknown as { getComputedStyle(e: unknown): { fill: string; stroke: string; strokeDasharray: string } }
          ).getComputedStyle(box);
          const [r, g, b] = (style.fill.match(/\d+/g) ?? []).map(Number) as [number, number, number];
          return { r, g, b, stroke: style.stroke, dashed: style.strokeDasharray !== 'none' };
        });
    for (const id of ['fetch:seville', 'parse:seville', 'extract:seville', 'report:south']) {
      const failed = await look(id);
      expect(failed.r - failed.g).toBeGreaterThan(80);
      expect(failed.stroke).toBe('rgb(207, 34, 46)');
    }
    const cancelled = await look('upload:archive');
    expect(cancelled.dashed).toBe(true);
    expect((cancelled.r + cancelled.g + cancelled.b) / 3).toBeLessThan(200);
    // Red edges trace the failure's path (fetch → parse → extract:seville → report:south), not the completed extracts' edges.
    expect(await p.locator('path.edge.branch-FAILED').count()).toBe(3);
    expect(await p.locator('path.edge.branch-CANCELLED').count()).toBe(1);
    const edgeStroke = await p
      .locator('path.edge.branch-FAILED')
      .first()
      .evaluate((e) => (globalThis as unknown as { getComputedStyle(e: unknown): { stroke: string } }).getComputedStyle(e).stroke);
    expect(edgeStroke).toBe('rgb(207, 34, 46)');

    // Priority by name; a COMPLETED task shows 100% whatever it last reported.
    await nodeOf(p, 'parse:oslo').click();
    await expect.poll(() => p.locator('#detail h2').textContent()).toBe('parse:oslo');
    expect(await detailField(p, 'priority').textContent()).toBe('HIGH');
    expect(await detailField(p, 'progress').textContent()).toBe('100%');
    await nodeOf(p, 'extract:helsinki').click();
    await expect.poll(() => detailField(p, 'progress').textContent()).toBe('50%');

    // The statechart fits the panel: no horizontal scroll, every state's name whole inside its box.
    await nodeOf(p, 'fetch:seville').click();
    await expect.poll(() => p.locator('#detail g.sc-node.current').getAttribute('data-state')).toBe('failed');
    const overflow = await p
      .locator('#detail')
      .evaluate((aside) => (aside as unknown as DomEl & { scrollWidth: number }).scrollWidth - (aside as unknown as DomEl).clientWidth);
    expect(overflow).toBe(0);
    const [chartBox] = await boxesOf(p, '#statechart svg', '#detail');
    expect(chartBox?.left).toBeGreaterThanOrEqual(0);
    expect(chartBox?.right).toBeGreaterThanOrEqual(0);
    const labels = await p.locator('#statechart g.sc-node').evaluateAll((groups) =>
      groups.map((g) => {
        const el = g as unknown as { querySelector(s: string): (DomEl & { textContent: string }) | null };
        const text = el.querySelector('text') as DomEl & { textContent: string };
        const t = text.getBoundingClientRect();
        const r = (el.querySelector('rect') as DomEl).getBoundingClientRect();
        return { name: text.textContent, inside: t.left >= r.left && t.right <= r.right && t.width > 0 };
      }),
    );
    expect(labels.map((l) => l.name)).toContain('cancelled');
    expect(labels.filter((l) => !l.inside)).toEqual([]);
    const edges = await boxesOf(p, '#statechart path.sc-edge', '#detail');
    for (const e of edges) expect(Math.min(e.left, e.right)).toBeGreaterThanOrEqual(0);

    // The chart spans the page and has a y scale.
    const chart = await boxesOf(p, '#chart canvas', '#chart');
    const chartWidth = await p.locator('#chart').evaluate((c) => (c as unknown as DomEl).clientWidth);
    expect(chart[0]?.width).toBeGreaterThanOrEqual(chartWidth - 40);
    // No label is cut by the chart's edges: no dark (text) pixel on its outermost rows and columns.
    const edgeInk = await p.locator('#chart canvas').evaluate((canvas) => {
      const c = canvas as unknown as {
        width: number;
        height: number;
        getContext(k: '2d'): { getImageData(x: number, y: number, w: number, h: number): { data: Uint8ClampedArray } };
      };
      const { data } = c.getContext('2d').getImageData(0, 0, c.width, c.height);
      const dark = (x: number, y: number) => {
        const i = (y * c.width + x) * 4;
        return (data[i + 3] ?? 0) > 128 && ((data[i] ?? 0) + (data[i + 1] ?? 0) + (data[i + 2] ?? 0)) / 3 < 100;
      };
      const ink: string[] = [];
      for (let y = 0; y < c.height; y++) for (const x of [0, c.width - 1]) if (dark(x, y)) ink.push(`${x},${y}`);
      for (let x = 0; x < c.width; x++) for (const y of [0, c.height - 1]) if (dark(x, y)) ink.push(`${x},${y}`);
      return ink;
    });
    expect(edgeInk).toEqual([]);
    await expect.poll(() => p.locator('#chart').getAttribute('aria-label')).toMatch(/scale 0, \d+(, \d+)+/);

    await saveScreenshot(p, 'dashboard.png');
    expect(problems).toEqual([]);
  }, 60_000);

  it('scrolls a graph too tall to fit at a legible scale, with every node reachable and none over another', async () => {
    engine = new TaskEngine();
    const { page: p, problems } = await openDashboard(engine);
    engine.registerTasks(Array.from({ length: 60 }, (_, i) => ({ id: `t${i}`, name: `step ${i}` })));
    await expect.poll(() => p.locator('g.node').count()).toBe(60);
    expect(Number(await p.locator('#graph svg').getAttribute('data-scale'))).toBe(0.6);
    const view = p.locator('#view');
    expect(await view.evaluate((v) => (v as unknown as { scrollHeight: number }).scrollHeight > (v as unknown as DomEl).clientHeight)).toBe(
      true,
    );
    const nodes = await boxesOf(p, 'g.node rect.box', '#view');
    const sorted = [...nodes].sort((a, b) => a.top - b.top);
    for (let i = 1; i < sorted.length; i++) expect(sorted[i]!.top).toBeGreaterThanOrEqual(sorted[i - 1]!.top + sorted[i - 1]!.height);
    await nodeOf(p, 't59').scrollIntoViewIfNeeded();
    await nodeOf(p, 't59').click();
    await expect.poll(() => p.locator('#detail h2').textContent()).toBe('step 59');
    expect(problems).toEqual([]);
  }, 30_000);

  it('shows a task started while its dependency never was as stalled, until the dependency starts', async () => {
    engine = new TaskEngine();
    const { page: p, problems } = await openDashboard(engine);
    engine.registerTasks([
      { id: 'approve', name: 'approve release' },
      { id: 'publish', name: 'publish', dependencies: ['approve'] },
    ]);
    engine.startTask('publish');
    await engine.onIdle();
    await expect.poll(() => nodeOf(p, 'publish').locator('text.status').textContent()).toMatch(/^STALLED: never-started/);
    await expect.poll(() => p.locator('#counts .count.stalled').textContent()).toBe('STALLED 1');
    await nodeOf(p, 'publish').click();
    await expect.poll(() => detailField(p, 'stalled').textContent()).toBe('waiting on never-started approve release (approve)');
    expect(await detailField(p, 'status').textContent()).toBe('WAITING (stalled)');
    await saveScreenshot(p, 'dashboard-stalled.png');

    engine.startTask('approve');
    await expect.poll(() => nodeOf(p, 'publish').locator('text.status').textContent()).toBe('WAITING');
    await expect.poll(() => p.locator('#counts .count.stalled').count()).toBe(0);
    await expect.poll(() => detailField(p, 'stalled').count()).toBe(0);
    engine.completeTask('approve', true);
    await expect.poll(() => nodeOf(p, 'publish').locator('text.status').textContent()).toBe('RUNNING');
    expect(problems).toEqual([]);
  }, 30_000);
});
