import { compileExplanation, float32, writeOnnx, Rng, type IrGraph, type IrNode, type RuleSet, type Tensor } from '@blameboard/core';
import { graphOf, int, ints, node, runOnce } from './graphs.js';
import type { RefConv, RefDense, RefLayer } from './lrp-reference.js';

/**
 * The same small nets as the JS reference sees them and as ONNX graphs. Dense layers alternate
 * between Gemm (transB = 1, as PyTorch writes nn.Linear) and MatMul + Add (as converters write
 * dense layers), so both forms of "a dense layer" are exercised.
 */
export function irFromRef(layers: RefLayer[], inShape: number[]): IrGraph {
  const nodes: IrNode[] = [];
  const init: Record<string, Tensor> = {};
  let current = 'x';
  let denseCount = 0;
  layers.forEach((layer, l) => {
    const out = l === layers.length - 1 ? 'y' : `h${l}`;
    switch (layer.kind) {
      case 'dense': {
        const k = layer.w.length;
        const m = layer.w[0].length;
        if (denseCount++ % 2 === 0) {
          // Gemm with transB: weight stored [M, K].
          init[`w${l}`] = float32([m, k], Array.from({ length: m * k }, (_, i) => layer.w[i % k][Math.floor(i / k)]));
          const inputs = [current, `w${l}`];
          if (layer.b) {
            init[`b${l}`] = float32([m], layer.b);
            inputs.push(`b${l}`);
          }
          nodes.push(node('Gemm', inputs, [out], { transB: int(1) }));
        } else {
          init[`w${l}`] = float32([k, m], layer.w.flat());
          if (layer.b) {
            init[`b${l}`] = float32([1, m], layer.b);
            nodes.push(node('MatMul', [current, `w${l}`], [`${out}_mm`]));
            nodes.push(node('Add', [`${out}_mm`, `b${l}`], [out]));
          } else {
            nodes.push(node('MatMul', [current, `w${l}`], [out]));
          }
        }
        break;
      }
      case 'conv': {
        const co = layer.w.length;
        const ci = layer.w[0].length;
        const kh = layer.w[0][0].length;
        const kw = layer.w[0][0][0].length;
        init[`w${l}`] = float32([co, ci, kh, kw], layer.w.flat(3));
        const inputs = [current, `w${l}`];
        if (layer.b) {
          init[`b${l}`] = float32([co], layer.b);
          inputs.push(`b${l}`);
        }
        nodes.push(
          node('Conv', inputs, [out], {
            kernel_shape: ints([kh, kw]),
            strides: ints(layer.stride ?? [1, 1]),
            pads: ints(layer.pads ?? [0, 0, 0, 0]),
          }),
        );
        break;
      }
      case 'relu':
        nodes.push(node('Relu', [current], [out]));
        break;
      case 'flatten':
        nodes.push(node('Flatten', [current], [out]));
        break;
      case 'avgpool':
      case 'maxpool':
        nodes.push(
          node(layer.kind === 'avgpool' ? 'AveragePool' : 'MaxPool', [current], [out], {
            kernel_shape: ints([layer.k, layer.k]),
            strides: ints([layer.stride, layer.stride]),
          }),
        );
        break;
    }
    current = out;
  });
  return graphOf(nodes, init, ['N', ...inShape], 13);
}

export function randomDense(rng: Rng, k: number, m: number, bias = true, scale = 1): RefDense {
  const s = scale / Math.sqrt(k);
  return {
    kind: 'dense',
    w: Array.from({ length: k }, () => Array.from({ length: m }, () => rng.normal(0, s))),
    b: bias ? Array.from({ length: m }, () => rng.normal(0, 0.3)) : undefined,
  };
}

export function randomConv(rng: Rng, co: number, ci: number, k: number, opts: Partial<RefConv> & { bias?: boolean } = {}): RefConv {
  const s = 1 / Math.sqrt(ci * k * k);
  return {
    kind: 'conv',
    w: Array.from({ length: co }, () => Array.from({ length: ci }, () => Array.from({ length: k }, () => Array.from({ length: k }, () => rng.normal(0, s))))),
    b: opts.bias === false ? undefined : Array.from({ length: co }, () => rng.normal(0, 0.3)),
    stride: opts.stride,
    pads: opts.pads,
  };
}

export interface LrpRun {
  attribution: Tensor;
  logits: Tensor;
  /** Bias relevance [N] per requested output name (`bias_relevance:<node>`). */
  extra: Record<string, Tensor>;
}

/** Compiles `graph` with an LRP rule set (R = f_t(x) at the target) and runs it on onnxruntime. */
export async function runLrp(graph: IrGraph, rules: RuleSet, x: Tensor, targets: number[]): Promise<LrpRun> {
  const compiled = compileExplanation(graph, rules, { start: 'seed-times-output' });
  const classes = graph.outputs[0].shape[1] as number;
  const seed = float32([targets.length, classes]);
  targets.forEach((t, n) => ((seed.data as Float32Array)[n * classes + t] = 1));
  const out = await runOnce(writeOnnx(compiled.graph), { [compiled.inputNames.input]: x, [compiled.inputNames.seed]: seed });
  const extra: Record<string, Tensor> = {};
  for (const [requested, name] of Object.entries(compiled.extraOutputs)) extra[requested] = out[name];
  return { attribution: out[compiled.outputNames[0]], logits: out[compiled.logits], extra };
}
