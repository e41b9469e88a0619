/** Child of perf.ts: runs IG once with the given step count and prints the process's peak RSS in bytes. */
import { disposeSessions } from '@blameboard/core';
import { loadDataset } from '@blameboard/datasets';
import { explain } from '@blameboard/methods';
import { resolveModel } from '@blameboard/models';

const steps = Number(process.argv[2]);
const model = await resolveModel('mnist-cnn');
const ds = await loadDataset('mnist', { split: 'test', count: 256, seed: 0, layout: 'nchw' });
const targets = Int32Array.from(ds.labels as ArrayLike<number>);
await explain({ model, inputs: ds.inputs, targets, method: 'integrated-gradients', params: { steps }, batchSize: 64 });
await disposeSessions();
// maxRSS is reported in KiB.
console.log(process.resourceUsage().maxRSS * 1024);
