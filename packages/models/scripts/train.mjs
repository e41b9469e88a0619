// Trains the zoo from the built package (pnpm --filter @blameboard/models build first):
//   node packages/models/scripts/train.mjs [ID…]   (all when none; one at a time, so one failure
// does not stop the others). `blameboard train` is the same through the CLI.
import { zooIds } from '../dist/index.js';
import { trainZoo } from '../dist/training.js';

const ids = process.argv.slice(2);
const start = performance.now();
let failed = 0;
for (const id of ids.length ? ids : zooIds) {
  try {
    await trainZoo([id], { onProgress: (line) => console.log(`[${((performance.now() - start) / 1000).toFixed(0)} s] ${line}`) });
  } catch (e) {
    failed++;
    console.log(`FAILED ${id}: ${e instanceof Error ? e.message : String(e)}`);
  }
}
console.log(`done in ${((performance.now() - start) / 1000).toFixed(1)} s, ${failed} failed`);
process.exitCode = failed ? 1 : 0;
