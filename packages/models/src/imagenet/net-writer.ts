import { inferShapes, Rng, type Attribute, type IrGraph, type IrNode, type Tensor } from '@blameboard/core';

const ints = (value: number[]): Attribute => ({ type: 'ints', value });
const int = (value: number): Attribute => ({ type: 'int', value });

/**
 * Appends the layers of a CNN, as `torch.onnx.export` writes an eval-mode torchvision model
 * (opset 13, BatchNorm already folded into the conv before it, SiLU as Sigmoid·x), to an IR
 * graph with seeded random weights: He-normal convolution kernels and small biases, so that
 * activations keep a sane scale through 50 layers without any training.
 */
export class NetWriter {
  private readonly nodes: IrNode[] = [];
  private readonly initializers = new Map<string, Tensor>();
  private readonly rng: Rng;
  private count = 0;

  constructor(seed: number) {
    this.rng = new Rng(seed);
  }

  private fresh(hint: string): string {
    return `${hint}_${++this.count}`;
  }

  private node(opType: string, inputs: string[], attributes: Record<string, Attribute> = {}): string {
    const out = this.fresh(opType.toLowerCase());
    this.nodes.push({ name: `${opType}_${this.count}`, opType, domain: '', inputs, outputs: [out], attributes });
    return out;
  }

  private weight(shape: number[], std: number, hint: string): string {
    const data = new Float32Array(shape.reduce((p, d) => p * d, 1));
    this.rng.fillNormal(data, 0, std);
    const name = this.fresh(hint);
    this.initializers.set(name, { dtype: 'float32', shape, data });
    return name;
  }

  /**
   * k×k convolution with bias (a folded BatchNorm), 'same'-style padding (k − 1)/2. `gain`
   * scales the He-normal kernel: < 1 on the last conv of a residual branch keeps the residual
   * stream from growing block after block.
   */
  conv(x: string, inChannels: number, outChannels: number, k: number, opts: { stride?: number; group?: number; gain?: number } = {}): string {
    const group = opts.group ?? 1;
    const stride = opts.stride ?? 1;
    const fanIn = (inChannels / group) * k * k;
    const w = this.weight([outChannels, inChannels / group, k, k], (opts.gain ?? 1) * Math.sqrt(2 / fanIn), 'conv_w');
    const b = this.weight([outChannels], 0.05, 'conv_b');
    const p = (k - 1) >> 1;
    return this.node('Conv', [x, w, b], {
      dilations: ints([1, 1]),
      group: int(group),
      kernel_shape: ints([k, k]),
      pads: ints([p, p, p, p]),
      strides: ints([stride, stride]),
    });
  }

  relu(x: string): string {
    return this.node('Relu', [x]);
  }

  /** ReLU6 as `torch.onnx.export` writes it from opset 11: Clip with its bounds 0 and 6 as scalar inputs. */
  relu6(x: string): string {
    if (!this.initializers.has('clip_min')) {
      this.initializers.set('clip_min', { dtype: 'float32', shape: [], data: new Float32Array([0]) });
      this.initializers.set('clip_max', { dtype: 'float32', shape: [], data: new Float32Array([6]) });
    }
    return this.node('Clip', [x, 'clip_min', 'clip_max']);
  }

  sigmoid(x: string): string {
    return this.node('Sigmoid', [x]);
  }

  /** x·σ(x), as exporters write SiLU/Swish below opset 14's missing op: Sigmoid then Mul. */
  silu(x: string): string {
    return this.mul(x, this.sigmoid(x));
  }

  mul(a: string, b: string): string {
    return this.node('Mul', [a, b]);
  }

  add(a: string, b: string): string {
    return this.node('Add', [a, b]);
  }

  maxPool(x: string, k: number, stride: number, pad: number): string {
    return this.node('MaxPool', [x], { ceil_mode: int(0), kernel_shape: ints([k, k]), pads: ints([pad, pad, pad, pad]), strides: ints([stride, stride]) });
  }

  globalAveragePool(x: string): string {
    return this.node('GlobalAveragePool', [x]);
  }

  flatten(x: string): string {
    return this.node('Flatten', [x], { axis: int(1) });
  }

  /** nn.Linear: Gemm with transB = 1, PyTorch's default uniform(±1/√fan_in) init. */
  linear(x: string, inFeatures: number, outFeatures: number): string {
    const bound = 1 / Math.sqrt(inFeatures);
    const w = this.weight([outFeatures, inFeatures], bound / Math.sqrt(3), 'fc_w');
    const b = this.weight([outFeatures], bound / Math.sqrt(3), 'fc_b');
    return this.node('Gemm', [x, w, b], { alpha: { type: 'float', value: 1 }, beta: { type: 'float', value: 1 }, transB: int(1) });
  }

  /** The finished graph: input `input` [N, 3, size, size], output `logits` [N, classes], shapes inferred. */
  finish(name: string, input: string, output: string, inputShape: number[]): IrGraph {
    const last = this.nodes[this.nodes.length - 1];
    const from = last.outputs[0];
    last.outputs[0] = output;
    for (const n of this.nodes) n.inputs = n.inputs.map((i) => (i === from ? output : i));
    const graph: IrGraph = {
      name,
      irVersion: 8,
      opsetVersion: 13,
      producerName: 'blameboard-imagenet',
      inputs: [{ name: input, dtype: 'float32', shape: ['N', ...inputShape] }],
      outputs: [{ name: output, dtype: 'float32', shape: [] }],
      initializers: this.initializers,
      nodes: this.nodes,
      values: new Map(),
    };
    inferShapes(graph);
    return graph;
  }
}
