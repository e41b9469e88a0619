import { pathToFileURL } from 'node:url';
import { chromium, type Browser } from 'playwright-core';

/** Debian's Chromium (`apt-get install chromium`); playwright-core never downloads a browser. */
export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** Headless, and quiet on a closed network: no background fetches that would fail (or count as requests). */
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
];

export interface RenderedCell {
  column: string;
  value: number;
  ci: [number, number] | null;
  rank: number;
  text: string;
}

export interface RenderedRow {
  cell: string;
  label: string;
  values: RenderedCell[];
}

export interface RenderedLeaderboard {
  model: string;
  heading: string;
  rows: RenderedRow[];
}

export interface ReportInspection {
  consoleErrors: string[];
  /** Every request the page made beyond its own file. */
  requests: string[];
  /** Alert/confirm/prompt dialogs the page opened (an injected script would). */
  dialogs: string[];
  leaderboards: RenderedLeaderboard[];
  /** The first leaderboard's row order before and after clicking its headline column, and after a second click. */
  sort: { column: string; before: string[]; after: string[]; afterKeys: number[]; reversed: string[]; reversedKeys: number[] } | null;
  images: number;
}

export async function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS, headless: true });
}

/**
 * Opens a report page in headless Chromium and reads back what a person would see: console
 * errors, network requests, dialogs, every leaderboard row with its numbers, and what a click
 * on a column header does. Optionally saves a full-page screenshot.
 */
export async function inspectReport(htmlFile: string, opts: { screenshot?: string; browser?: Browser } = {}): Promise<ReportInspection> {
  const browser = opts.browser ?? (await launchChromium());
  try {
    const context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
    const page = await context.newPage();
    const url = pathToFileURL(htmlFile).href;
    const consoleErrors: string[] = [];
    const requests: string[] = [];
    const dialogs: string[] = [];
    page.on('console', (m) => {
      if (m.type() === 'error') consoleErrors.push(m.text());
    });
    page.on('pageerror', (e) => consoleErrors.push(e.message));
    page.on('request', (r) => {
      if (r.url() !== url && !r.url().startsWith('data:')) requests.push(r.url());
    });
    page.on('dialog', (d) => {
      dialogs.push(d.message());
      void d.dismiss();
    });
    await page.goto(url, { waitUntil: 'load' });
    const leaderboards = await page.$$eval('section.model', (sections) =>
      sections.map((s) => ({
        model: s.getAttribute('data-model') ?? '',
        heading: s.querySelector('h2')?.childNodes[0]?.textContent?.trim() ?? '',
        rows: Array.from(s.querySelectorAll('table.leaderboard tbody tr')).map((tr) => ({
          cell: tr.getAttribute('data-cell') ?? '',
          label: tr.querySelector('td.label')?.getAttribute('data-sort') ?? '',
          values: Array.from(tr.querySelectorAll('td[data-value]')).map((td) => {
            const th = td.closest('table')!.querySelectorAll('thead th')[(td as HTMLTableCellElement).cellIndex];
            const ci = td.getAttribute('data-ci');
            return {
              column: th.getAttribute('data-column') ?? '',
              value: Number(td.getAttribute('data-value')),
              ci: ci ? (ci.split(',').map(Number) as [number, number]) : null,
              rank: Number(td.getAttribute('data-rank')),
              text: td.querySelector('.v')?.textContent ?? '',
            };
          }),
        })),
      })),
    );
    let sort: ReportInspection['sort'] = null;
    const table = page.locator('table.leaderboard').first();
    if ((await table.count()) > 0) {
      const order = () => table.locator('tbody tr').evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-cell') ?? ''));
      const header = table.locator('thead th[data-column]').first();
      const column = (await header.getAttribute('data-column')) ?? '';
      const index = await header.evaluate((th) => (th as HTMLTableCellElement).cellIndex);
      const keys = () =>
        table.locator('tbody tr').evaluateAll(
          (trs, i) => trs.map((tr) => (tr as HTMLTableRowElement).cells[i as number].getAttribute('data-sort')).filter((v) => v !== '').map(Number),
          index,
        );
      const before = await order();
      await header.click();
      const after = await order();
      const afterKeys = await keys();
      await header.click();
      const reversed = await order();
      const reversedKeys = await keys();
      sort = { column, before, after, afterKeys, reversed, reversedKeys };
    }
    const images = await page.locator('img[src^="data:image/png;base64,"]').count();
    if (opts.screenshot) await page.screenshot({ path: opts.screenshot, fullPage: true });
    await context.close();
    return { consoleErrors, requests, dialogs, leaderboards, sort, images };
  } finally {
    if (!opts.browser) await browser.close();
  }
}
