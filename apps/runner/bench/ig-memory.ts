/** Child of perf.ts: runs IG once with the given step count and prints the process's peak RSS in bytes. */
import { readFileSync } from 'node:fs';
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
console.log(peakRss());

/**
 * This process's own peak RSS in bytes. On Linux, VmHWM of /proc/self/status: getrusage's maxRSS
 * survives exec and so starts at the *parent's* RSS at fork time (perf.ts holds ~900 MiB then),
 * which would hide the figure this bench is after.
 */
function peakRss(): number {
  try {
    const status = readFileSync('/proc/self/status', 'utf8');
    const kib = /^VmHWM:\s+(\d+) kB/m.exec(status);
    if (kib) return Number(kib[1]) * 1024;
  } catch {
    // not Linux: fall through
  }
  return process.resourceUsage().maxRSS * 1024;
}
