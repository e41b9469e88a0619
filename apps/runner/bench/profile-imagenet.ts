/**
 * Per-operator kernel times of the compiled gradient (and LRP) graphs of the ImageNet-scale
 * models, from onnxruntime's profiler: what bounds the gradient at 224×224. Writes the model to
 * a scratch file and runs packages/methods/bench/profile-ops.ts on it.
 *   node --import tsx apps/runner/bench/profile-imagenet.ts [model=resnet50] [threads=2] [batch=16] [top=15] [graphs=gradient]
 * e.g. `… profile-imagenet.ts mobilenet_v2 1 8 20 gradient,lrp` (one thread: what each worker session runs).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { imagenetOnnx } from '@blameboard/models';

const [id = 'resnet50', threads = '2', batch = '16', top = '15', graphs = 'gradient'] = process.argv.slice(2);
const dir = mkdtempSync(path.join(os.tmpdir(), 'bb-profile-'));
try {
  const model = path.join(dir, `${id}.onnx`);
  writeFileSync(model, imagenetOnnx(id));
  const script = fileURLToPath(new URL('../../../packages/methods/bench/profile-ops.ts', import.meta.url));
  const child = spawnSync(process.execPath, ['--import', 'tsx', script, threads, top, model, batch, graphs, 'epsilon-plus'], { stdio: 'inherit' });
  process.exitCode = child.status ?? 1;
} finally {
  rmSync(dir, { recursive: true, force: true });
}
