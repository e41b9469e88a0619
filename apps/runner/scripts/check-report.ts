// CI's check of a rendered sweep (`.ci/run` after `pnpm bench --quick`):
//   node --import tsx apps/runner/scripts/check-report.ts REPORT_DIR
// results.json must match its schema and hold no failed cell; index.html must load in headless
// Chromium without console errors or network requests, show every configuration row of every
// leaderboard, and reorder its rows when a column header is clicked. Saves index.png beside the
// report and appends the Markdown leaderboards to $GITHUB_STEP_SUMMARY when that is set.
import { appendFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { readResults } from '@blameboard/reports';
import { inspectReport } from '../browser/inspect-report.js';

const dir = process.argv[2];
if (!dir) {
  console.error('usage: check-report REPORT_DIR');
  process.exit(2);
}
const problems: string[] = [];
const { results } = readResults(dir);
const failed = results.cells.filter((c) => c.status === 'error');
for (const c of failed) problems.push(`cell ${c.model} · ${c.label} failed: ${c.reason}`);
const page = await inspectReport(join(dir, 'index.html'), { screenshot: join(dir, 'index.png') });
for (const e of page.consoleErrors) problems.push(`console error: ${e}`);
for (const r of page.requests) problems.push(`network request: ${r}`);
for (const d of page.dialogs) problems.push(`dialog opened: ${d}`);
results.leaderboards.forEach((board, i) => {
  const shown = page.leaderboards[i]?.rows.map((r) => r.cell) ?? [];
  const missing = board.rows.filter((r) => !shown.includes(r.cell));
  if (shown.length !== board.rows.length || missing.length) problems.push(`${board.model}: the page shows ${shown.length} of ${board.rows.length} rows`);
});
const sort = page.sort;
if (!sort) problems.push('no sortable leaderboard on the page');
else {
  const ascending = sort.afterKeys.every((v, i) => i === 0 || sort.afterKeys[i - 1] <= v);
  if (!ascending || sort.after.join() === sort.before.join()) problems.push(`clicking '${sort.column}' did not sort the rows`);
}
const rows = results.leaderboards.reduce((s, b) => s + b.rows.length, 0);
if (process.env.GITHUB_STEP_SUMMARY) appendFileSync(process.env.GITHUB_STEP_SUMMARY, readFileSync(join(dir, 'leaderboard.md'), 'utf8'));
if (problems.length) {
  for (const p of problems) console.error(`check-report: ${p}`);
  process.exit(1);
}
console.error(`check-report: results.json valid; index.html shows ${rows} rows on ${results.leaderboards.length} leaderboards, no console errors, no requests, sorts on click; screenshot ${join(dir, 'index.png')}`);
