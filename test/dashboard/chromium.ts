/**
 * What the dashboard's browser tests share: Debian's Chromium driven by playwright-core (.ci/run installs chromium
 * when it is missing), a watch on everything the browser's console would show as a problem, and ways to find a
 * task's node and to wait for an external task to run.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { firstValueFrom, filter } from 'rxjs';
import { chromium, type Browser, type Locator, type Page } from 'playwright-core';
import type { TaskEngine } from '../../src/index.js';

export const CHROMIUM = '/usr/bin/chromium';

/** The viewport of the README's screenshots. */
export const SCREENSHOT_VIEWPORT = { width: 1400, height: 900 };

export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM))
    throw new Error(`${CHROMIUM} is missing: install Debian's chromium (apt-get install -y chromium); .ci/run does`);
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update'],
  });
}

/**
 * Collects what a user would see as an error in the browser's console: console errors, uncaught page errors,
 * failed requests and HTTP error answers (a missing favicon is a 404 here). Read it before closing the page: closing
 * aborts the event stream.
 */
export function watchProblems(page: Page): string[] {
  const problems: string[] = [];
  page.on('console', (message) => {
    if (message.type() === 'error') problems.push(`console: ${message.text()}`);
  });
  page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
  page.on('requestfailed', (request) => problems.push(`request failed: ${request.url()} ${request.failure()?.errorText ?? ''}`));
  page.on('response', (response) => {
    if (response.status() >= 400) problems.push(`HTTP ${response.status()}: ${response.url()}`);
  });
  return problems;
}

/** The graph node of the task with this id (its title ends with `(id)`). */
export function nodeOf(page: Page, id: string): Locator {
  return page.locator('g.node', { has: page.locator('title', { hasText: `(${id})` }) });
}

/** The value (`dd`) of a field of the detail panel, by its label (`dt`). */
export function detailField(page: Page, label: string): Locator {
  return page.locator('#detail dt', { hasText: new RegExp(`^${label}$`) }).locator('xpath=following-sibling::dd[1]');
}

/** Resolves when the task is RUNNING (at once if it is). */
export async function whenRunning(engine: TaskEngine, id: string): Promise<void> {
  if (engine.getTaskStatus(id) === 'RUNNING') return; // events are synchronous: none can slip in before the subscription
  await firstValueFrom(engine.events.pipe(filter((e) => e.type === 'status' && e.taskId === id && e.status === 'RUNNING')));
}

/**
 * Saves a screenshot of the page: to docs/images (the README's) when UPDATE_SCREENSHOTS=1, else to test/artifacts.
 */
export async function saveScreenshot(page: Page, file: string): Promise<void> {
  const dir =
    process.env.UPDATE_SCREENSHOTS === '1' ? new URL('../../docs/images/', import.meta.url) : new URL('../artifacts/', import.meta.url);
  mkdirSync(dir, { recursive: true });
  await page.screenshot({ path: new URL(file, dir).pathname });
}
