// Pictures for the README, cut from a `pnpm bench` report in headless Chromium:
//   node --import tsx apps/runner/scripts/readme-images.ts [REPORT_DIR] [MODEL]
// writes docs/images/{leaderboard,gamma,heatmaps}-MODEL.png.
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { launchChromium } from '../browser/inspect-report.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const dir = process.argv[2] ?? join(root, 'reports/latest');
const model = process.argv[3] ?? 'mnist-cnn';
const browser = await launchChromium();
try {
  const page = await (await browser.newContext({ viewport: { width: 1500, height: 1000 }, deviceScaleFactor: 1 })).newPage();
  await page.goto(pathToFileURL(join(dir, 'index.html')).href);
  const section = page.locator(`section[data-model="${model}"]`);
  const out = (name: string) => join(root, 'docs/images', `${name}-${model}.png`);
  // The top of the leaderboard: the first rows are what a reader looks at.
  const table = section.locator('table.leaderboard');
  const box = (await table.boundingBox())!;
  await page.screenshot({ path: out('leaderboard'), clip: { x: box.x, y: box.y, width: Math.min(box.width, 1460), height: Math.min(box.height, 330) } });
  await section.locator('div.family').filter({ hasText: 'lrp epsilon-gamma-box' }).screenshot({ path: out('gamma') });
  await section.locator('table.heatmaps').screenshot({ path: out('heatmaps') });
} finally {
  await browser.close();
}
