/**
 * The dashboard in a real browser: Debian's Chromium driven by playwright-core (.ci/run installs
 * chromium when it is missing). Runs a DAG, watches nodes change colour as tasks finish, opens a
 * task's detail panel, checks that a hostile task name renders as text and that the console stays clean; shows a
 * missed deadline, a completion from the cache and a stalled attempt in the detail panel and the header.
 * Layout, chart, colours and the README's screenshots: layout.browser.test.ts.
 */
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SimulatedClock } from 'xstate';
import { serveDashboard, type Dashboard } from '../../src/dashboard/index.js';
import { TaskEngine, TaskPriority } from '../../src/index.js';
import { deferred, flush } from '../helpers.js';
import { detailField, launchChromium, nodeOf, saveScreenshot, watchProblems } from './chromium.js';

const HOSTILE = '<img src=x onerror=alert(1)>';

let browser: Browser;
beforeAll(async () => {
  browser = await launchChromium();
}, 60_000);
afterAll(async () => {
  await browser?.close();
});

/** The fill colour of a task's node box, by the task id in the node's title. */
function fillOf(page: Page, id: string): Promise<string> {
  return nodeOf(page, id)
    .locator('rect.box')
    .evaluate((box) => (globalThis as unknown as { getComputedStyle(element: unknown): { fill: string } }).getComputedStyle(box).fill);
}

describe('dashboard in Chromium', () => {
  it('shows the DAG live, colours nodes by status, opens the detail panel, and renders a hostile name as text', async () => {
    const engine = new TaskEngine({ concurrency: 4, resources: { cpu: 2 } });
    const gate = deferred();
    let dashboard: Dashboard | undefined;
    const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    const dialogs: string[] = [];
    const problems = watchProblems(page);
    let flakyCalls = 0;
    page.on('dialog', (dialog) => {
      dialogs.push(dialog.message());
      void dialog.dismiss();
    });
    try {
      dashboard = await serveDashboard(engine, { port: 0 });
      engine.registerTasks([
        { id: 'fetch', name: 'fetch', fn: () => 'data' },
        {
          id: 'parse',
          name: 'parse',
          dependencies: ['fetch'],
          timeout: 60_000,
          resources: { cpu: 1 },
          fn: async (ctx) => {
            ctx.progress(0.4, 'parsing');
            return gate.promise;
          },
        },
        {
          id: 'hostile',
          name: HOSTILE,
          dependencies: ['fetch'],
          fn: () => {
            throw new Error('boom <b>not bold</b>');
          },
        },
        { id: 'report', name: 'report', dependencies: ['parse'], fn: () => 'done' },
        {
          id: 'flaky',
          name: 'flaky',
          maxRetries: 1,
          retryDelay: 10,
          fn: async (ctx) => {
            flakyCalls++;
            ctx.progress(0.5, `half way, try ${flakyCalls}`);
            await new Promise((resolve) => setTimeout(resolve, 20));
            if (flakyCalls === 1) throw new Error('flaky <i>first</i> failure');
            return 'ok';
          },
        },
      ]);
      const requests: string[] = [];
      page.on('request', (request) => requests.push(request.url()));
      await page.goto(dashboard.url);
      for (const id of ['fetch', 'parse', 'hostile', 'report', 'flaky']) engine.startTask(id);
      await page.locator('g.node rect.box.s-RUNNING').first().waitFor();
      const runningFill = await fillOf(page, 'parse');
      const waitingFill = await fillOf(page, 'report');
      gate.resolve('parsed');
      await engine.onIdle();
      await nodeOf(page, 'report').locator('rect.box.s-COMPLETED').waitFor();
      expect(await fillOf(page, 'parse')).not.toBe(runningFill);
      expect(await fillOf(page, 'report')).not.toBe(waitingFill);
      expect(await fillOf(page, 'hostile')).not.toBe(await fillOf(page, 'report')); // FAILED is not COMPLETED
      await expect.poll(() => page.locator('#counts').textContent()).toMatch(/WAITING 0.*RUNNING 0.*COMPLETED 4.*FAILED 1/);

      // The hostile name is text: no <img> was created anywhere, and the detail panel shows it verbatim.
      expect(await page.locator('img').count()).toBe(0);
      await nodeOf(page, 'hostile').click();
      await expect.poll(() => page.locator('#detail h2').textContent()).toBe(HOSTILE);
      const detail = (await page.locator('#detail').textContent()) ?? '';
      expect(detail).toContain('FAILED');
      expect(detail).toContain('boom <b>not bold</b>');
      expect(await page.locator('#detail b').count()).toBe(0);
      // The statechart, laid out once, with the task's machine state highlighted.
      await page.locator('#detail #statechart g.sc-node.current').waitFor();
      expect(await page.locator('#detail g.sc-node').count()).toBe(9);
      await expect.poll(() => page.locator('#detail g.sc-node.current').getAttribute('data-state')).toBe('failed');
      expect(await page.locator('#detail g.sc-node.current').count()).toBe(1);
      await expect.poll(() => page.locator('#detail table.attempts tr.attempt').count()).toBe(1);
      expect(await page.locator('#detail table.attempts tr.attempt td.outcome').textContent()).toBe('failed');

      // Attempt history and progress messages of a task that failed once and then succeeded.
      await nodeOf(page, 'flaky').click();
      await expect.poll(() => page.locator('#detail h2').textContent()).toBe('flaky');
      await expect.poll(() => page.locator('#detail table.attempts tr.attempt').count()).toBe(2);
      expect(await page.locator('#detail table.attempts tr.attempt td.outcome').allTextContents()).toEqual(['failed', 'completed']);
      expect(await page.locator('#detail table.attempts tr.attempt td.error').first().textContent()).toBe(
        'Error: flaky <i>first</i> failure',
      );
      expect(await page.locator('#detail i').count()).toBe(0);
      expect(await page.locator('#detail ol.messages li').allTextContents()).toEqual(['50% half way, try 1', '50% half way, try 2']);
      await expect.poll(() => page.locator('#detail g.sc-node.current').getAttribute('data-state')).toBe('completed');

      await nodeOf(page, 'parse').click();
      await expect.poll(() => page.locator('#detail h2').textContent()).toBe('parse');
      expect(await page.locator('#detail').textContent()).toContain('COMPLETED');
      // Its settings stay visible after it finished: executor, timeout, resources.
      expect(await page.locator('#detail').textContent()).toMatch(/async executor, inline fn.*60000 ms per attempt.*cpu: 1/s);
      // It reported 40% and then completed: a COMPLETED task is at 100%.
      expect(await detailField(page, 'progress').textContent()).toBe('100%');
      expect(await detailField(page, 'priority').textContent()).toBe('NORMAL');
      await expect.poll(() => page.locator('#detail g.sc-node.current').getAttribute('data-state')).toBe('completed');
      expect(dialogs).toEqual([]);

      // The finished-tasks chart: uPlot from this server, drawn after tasks finished.
      expect(await page.evaluate(() => typeof (globalThis as unknown as { uPlot?: unknown }).uPlot)).toBe('function');
      await page.locator('#chart .uplot canvas').waitFor();
      const origin = new URL(dashboard.url).origin;
      expect(requests.filter((url) => !url.startsWith(origin))).toEqual([]);
      expect(requests).toContain(`${origin}/uplot.js`);
      expect(requests).toContain(`${origin}/uplot.css`);
      // Nothing a user would see as an error in the console: no 404 (the favicon is served), no script error.
      expect(requests).toContain(`${origin}/favicon.svg`);
      expect(problems).toEqual([]);
    } finally {
      await page.close();
      await dashboard?.close();
      await engine.shutdown();
    }
  }, 30_000);

  it('shows a missed deadline, a completion from the cache and a stalled attempt in the detail panel, and counts them', async () => {
    // Engine time is simulated (timers and timestamps), from now: the test moves it, nothing sleeps.
    const clock = new SimulatedClock();
    const start = Date.now();
    const engine = new TaskEngine({ clock, now: () => start + clock.now() });
    const advance = async (ms: number) => {
      await flush();
      clock.increment(ms);
      await flush();
    };
    let dashboard: Dashboard | undefined;
    const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    const problems = watchProblems(page);
    try {
      dashboard = await serveDashboard(engine, { port: 0 });
      const sum = (_ctx: unknown, x: number, y: number) => x + y;
      engine.registerTasks([
        { id: 'sum', name: 'sum', args: [1, 2], cache: true, fn: sum },
        { id: 'approve', name: 'approve', deadline: 100 }, // external: nobody completes it in time
        {
          id: 'crawl',
          name: 'crawl',
          heartbeatTimeout: 50,
          maxRetries: 1,
          retryDelay: 10,
          fn: (ctx) => (ctx.attempt === 1 ? new Promise(() => {}) : 'crawled'), // the first attempt never beats
        },
      ]);
      await page.goto(dashboard.url);
      await page.locator('#conn', { hasText: 'live' }).waitFor();
      engine.startTasks(['sum', 'approve', 'crawl']);
      await engine.waitForTask('sum');
      engine.registerTask({ id: 'sum-again', name: 'sum', args: [1, 2], cache: true, fn: sum });
      engine.startTask('sum-again');
      await engine.waitForTask('sum-again');
      await advance(60); // crawl's first attempt stalls
      await advance(10); // its retry runs
      await advance(40); // approve's deadline passes
      expect(await engine.waitForTask('crawl')).toBe('crawled');

      // The header counts each, from the engine's stats, once the page has them.
      const badge = (stat: string) => page.locator(`#counts .count[data-stat="${stat}"]`);
      await expect.poll(() => badge('deadlinesMissed').textContent(), { timeout: 5000 }).toBe('deadlines missed 1');
      expect(await badge('cacheHits').textContent()).toBe('from cache 1');
      expect(await badge('stalledAttempts').textContent()).toBe('stalled attempts 1');

      await nodeOf(page, 'approve').click();
      await expect.poll(() => page.locator('#detail h2').textContent()).toBe('approve');
      await expect
        .poll(() => detailField(page, 'deadline').textContent())
        .toBe(`deadline missed at ${new Date(start + 110).toISOString()}`);
      expect(await detailField(page, 'status').textContent()).toBe('RUNNING'); // it runs on

      await nodeOf(page, 'sum-again').click();
      await expect.poll(() => page.locator('#detail h2').textContent()).toBe('sum');
      await expect.poll(() => detailField(page, 'cache').textContent()).toBe('from cache (no attempt ran)');
      expect(await detailField(page, 'attempts').textContent()).toBe('0');
      await nodeOf(page, 'sum').click();
      await expect.poll(() => detailField(page, 'id').textContent()).toBe('sum');
      expect(await detailField(page, 'cache').count()).toBe(0); // the first one ran

      await nodeOf(page, 'crawl').click();
      await expect
        .poll(() => page.locator('#detail table.attempts tr.attempt td.outcome').allTextContents())
        .toEqual(['stalled (no heartbeat for 50 ms)', 'completed']);
      expect(await detailField(page, 'last heartbeat').textContent()).toBe(new Date(start + 70).toISOString());
      expect(await detailField(page, 'deadline').count()).toBe(0);
      await nodeOf(page, 'approve').click();
      await expect.poll(() => detailField(page, 'deadline').count()).toBe(1);
      await saveScreenshot(page, 'dashboard-long-work.png');
      expect(problems).toEqual([]);
    } finally {
      await page.close();
      await dashboard?.close();
      await engine.shutdown();
    }
  }, 30_000);

  it('stays responsive with 5,000 tasks: a list instead of a graph, live, and a click opens a task', async () => {
    const engine = new TaskEngine({ concurrency: 100 });
    let dashboard: Dashboard | undefined;
    const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    const problems = watchProblems(page);
    try {
      dashboard = await serveDashboard(engine, { port: 0 });
      const ids = engine.registerTasks(
        Array.from({ length: 5000 }, (_, i) => ({
          id: `t${i}`,
          name: `task ${i}`,
          priority: i % 2 === 0 ? TaskPriority.HIGH : TaskPriority.LOW,
        })),
      );
      for (const id of ids.slice(0, 100)) engine.startTask(id); // 100 external tasks RUNNING
      await page.goto(dashboard.url);
      await page.locator('#list table tr.s-RUNNING').first().waitFor({ timeout: 10_000 });
      expect(await page.locator('#note').textContent()).toMatch(/5000 tasks: more than 2000/);
      expect(await page.locator('#graph').isHidden()).toBe(true);
      // Live: completing tasks shows in the counts; the page answers at once (its main thread is not stuck).
      for (const id of ids.slice(0, 50)) engine.completeTask(id, 'done');
      await expect.poll(() => page.locator('#counts').textContent(), { timeout: 10_000 }).toMatch(/RUNNING 50.*COMPLETED 50/);
      await page.evaluate(() => 1); // the page's main thread takes a task (a stuck page would time the test out)
      // Priorities by name (the first 50 tasks completed; the list shows running tasks first).
      const row = (id: string) =>
        page.locator('#list table tr', { has: page.locator('td', { hasText: new RegExp(`^${id}$`) }) }).locator('td');
      await expect.poll(() => row('t50').allTextContents()).toEqual(['RUNNING', 'task 50', 't50', 'HIGH', '0%', '1', '']);
      expect(await row('t101').nth(3).textContent()).toBe('LOW');
      await page.locator('#list table tr.s-RUNNING').first().click();
      await expect.poll(() => page.locator('#detail h2').textContent()).toMatch(/^task \d+$/);
      expect(problems).toEqual([]);
    } finally {
      await page.close();
      await dashboard?.close();
      await engine.shutdown();
    }
  }, 60_000);
});
