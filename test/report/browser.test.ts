/**
 * The default build's report opened in headless Chromium (Debian's `chromium`; `.ci/run` installs
 * it): no console error, no request leaves the file, every chart rendered with a non-zero size
 * and marks in it, and the first screen matches docs/report.png (the README's screenshot) within a
 * tolerant pixel diff. LONGMIX_UPDATE_SCREENSHOT=1 writes docs/report.png instead of comparing.
 * Skipped where Chromium is missing, except under CI, where that is a failure.
 */
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import pixelmatch from 'pixelmatch';
import { chromium, type Browser } from 'playwright-core';
import { PNG } from 'pngjs';
import { afterAll, describe, expect, it } from 'vitest';
import { writeReport } from '../../src/report/index.ts';
import { buildInTemp, removeTempDirs } from '../helpers/build.ts';

const SAMPLE = fileURLToPath(new URL('../../pipelines/sample.yaml', import.meta.url));
const SCREENSHOT = fileURLToPath(new URL('../../docs/report.png', import.meta.url));
const CHROMIUM = process.env.LONGMIX_CHROMIUM ?? '/usr/bin/chromium';
/** The first screen of the report, CSS pixels (device scale 1). */
const VIEW = { width: 1200, height: 1300 };
/** Pixels whose colour differs beyond pixelmatch's threshold, as a share of all pixels, that still pass. */
const MAX_DIFF_SHARE = 0.01;

let browser: Browser | undefined;
afterAll(async () => {
  await browser?.close();
  await removeTempDirs();
});

describe.skipIf(!existsSync(CHROMIUM) && !process.env.CI)('report.html in headless Chromium', () => {
  it('renders every chart without a console error or a request, and looks like docs/report.png', async () => {
    const { outDir, manifest } = await buildInTemp(SAMPLE);
    const { file } = await writeReport(outDir, manifest);
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      // Root in CI: no sandbox; no network or update traffic; playwright gives a fresh profile.
      args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'],
    });
    const context = await browser.newContext({ viewport: VIEW, deviceScaleFactor: 1 });
    const requests: string[] = [];
    await context.route('**/*', (route) => {
      const url = route.request().url();
      if (url.startsWith('file:') || url.startsWith('data:')) return route.continue();
      requests.push(url);
      return route.abort();
    });
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('console', (m) => (m.type() === 'error' || m.type() === 'warning' ? errors.push(`${m.type()}: ${m.text()}`) : undefined));
    page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
    await page.goto(pathToFileURL(file).href, { waitUntil: 'load' });

    const charts = await page.$$eval('figure.chart', (figures) =>
      figures.map((f) => {
        const svg = f.querySelector('svg')!;
        const box = svg.getBoundingClientRect();
        const marks = [...svg.querySelectorAll('g[class*="mark-"] > path, g[class*="mark-"] > line, g[class*="mark-"] > text')].filter((m) => {
          const b = (m as unknown as { getBBox(): { width: number; height: number } }).getBBox();
          return b.width > 0 || b.height > 0;
        });
        return { id: f.id, width: Math.round(box.width), height: Math.round(box.height), marks: marks.length };
      }),
    );
    expect(errors).toEqual([]);
    expect(requests).toEqual([]);
    expect(charts.map((c) => c.id)).toEqual([
      'chart-flow-sources',
      'chart-flow-cells',
      'chart-mix',
      'chart-windows',
      'chart-lengths-0',
      'chart-lengths-1',
      'chart-lengths-2',
      'chart-lengths-3',
      'chart-lengths-4',
      'chart-padding',
      'chart-pieces',
      'chart-filler',
      'chart-schedule',
      'chart-ranks',
    ]);
    for (const c of charts) {
      expect(c.width, c.id).toBeGreaterThan(100);
      expect(c.height, c.id).toBeGreaterThan(40);
      expect(c.marks, c.id).toBeGreaterThan(10);
    }
    expect(await page.locator('section h2').allInnerTexts()).toEqual([
      'Summary',
      'Where every token went',
      'The mix',
      'Document lengths per cell',
      'Row fill',
      'Schedule',
      'The build',
    ]);

    const shot = PNG.sync.read(await page.screenshot({ clip: { x: 0, y: 0, ...VIEW } }));
    if (process.env.LONGMIX_UPDATE_SCREENSHOT === '1') await writeFile(SCREENSHOT, PNG.sync.write(shot));
    const stored = PNG.sync.read(await readFile(SCREENSHOT));
    expect([stored.width, stored.height]).toEqual([shot.width, shot.height]);
    const diff = new PNG({ width: shot.width, height: shot.height });
    const differing = pixelmatch(stored.data, shot.data, diff.data, shot.width, shot.height, { threshold: 0.1 });
    if (differing > MAX_DIFF_SHARE * shot.width * shot.height) {
      const prefix = path.join(os.tmpdir(), 'longmix-report-screenshot');
      await writeFile(`${prefix}-actual.png`, PNG.sync.write(shot));
      await writeFile(`${prefix}-diff.png`, PNG.sync.write(diff));
      expect.fail(
        `${differing} of ${shot.width * shot.height} pixels differ from docs/report.png (see ${prefix}-actual.png and -diff.png); if the change is meant, rerun with LONGMIX_UPDATE_SCREENSHOT=1`,
      );
    }
  });
});
