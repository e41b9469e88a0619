/**
 * Per-operator kernel times of the compiled gradient (and LRP) graphs of the ImageNet-scale
 * models, from onnxruntime's profiler: what bounds the gradient at 224×224.
 *   node --import tsx apps/runner/bench/profile-imagenet.ts [model=resnet50] [threads=2] [batch=16] [top=15] [graphs=gradient]
 * e.g. `… profile-imagenet.ts mobilenet_v2 1 8 20 gradient,lrp` (one thread: what each worker session runs).
 */
import { imagenetGraph } from '@blameboard/models';
import { profileGraphs } from '../../../packages/methods/bench/profile-ops.js';

const [id = 'resnet50', threads = '2', batch = '16', top = '15', graphs = 'gradient'] = process.argv.slice(2);
await profileGraphs(imagenetGraph(id), {
  batch: Number(batch),
  threads: Number(threads),
  top: Number(top),
  runs: 4,
  lrpComposite: 'epsilon-plus',
  only: graphs.split(','),
});
