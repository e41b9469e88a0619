/**
 * Writes the ONNX fixtures the core tests load (deterministic; re-run after changing a builder):
 *   npx tsx packages/core/scripts/make-fixtures.ts
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeOnnx } from '../src/onnx/write.js';
import { externalize, mlpGraph, paddleStyleOpset9Graph, pytorchStyleGraph, tf2onnxStyleGraph, withBatchParam } from '../src/onnx/test-utils/fixture-graphs.js';

const dir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../fixtures');
const write = (rel: string, bytes: Uint8Array) => {
  const file = path.join(dir, rel);
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, bytes);
  console.log(`wrote ${path.relative(process.cwd(), file)} (${bytes.length} bytes)`);
};

write('pytorch-style.onnx', withBatchParam(writeOnnx(pytorchStyleGraph())));
write('mlp.onnx', writeOnnx(mlpGraph()));
write('mlp-softmax.onnx', writeOnnx(mlpGraph({ tail: 'Softmax' })));
write('mlp-logsoftmax.onnx', writeOnnx(mlpGraph({ tail: 'LogSoftmax' })));
write('unsupported-op.onnx', writeOnnx(mlpGraph({ hidden: 'Sin' })));
write('exporters/paddle-opset9-se.onnx', withBatchParam(writeOnnx(paddleStyleOpset9Graph()), 'p2o.DynamicDimension.0'));
write('exporters/tf2onnx-opset13.onnx', withBatchParam(writeOnnx(tf2onnxStyleGraph()), 'unk__12'));

const inside = externalize(mlpGraph(), 'w1', 'weights.bin');
write('external/inside/model.onnx', inside.model);
write('external/inside/weights.bin', inside.data);
write('external/escape-parent/model.onnx', externalize(mlpGraph(), 'w1', '../inside/weights.bin').model);
write('external/escape-absolute/model.onnx', externalize(mlpGraph(), 'w1', '/etc/passwd').model);
