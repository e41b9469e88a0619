import type { Tensor } from '../tensor.js';
import type { Attribute, Dim, IrGraph, IrNode } from '../ir/types.js';

/**
 * The explanation-graph compiler's contract. The compiler (core) copies the forward graph,
 * then walks its nodes in reverse, asking a BackwardRule (packages/methods) for each node how the
 * signal arriving at the node's output (a gradient or a relevance, `upstream`) flows to its
 * inputs. Rules emit ONNX nodes through the GraphBuilder; the compiler sums contributions to a
 * value used several times and returns the signal at the model input as the attribution.
 */
export interface GraphBuilder {
  /** Emits one node; returns its output names (fresh, unique). */
  op(opType: string, inputs: string[], attributes?: Record<string, Attribute>, outputCount?: number): string[];
  /** Adds a constant initializer; returns its name. */
  constant(value: Tensor, nameHint?: string): string;
  /** A float32 scalar constant (shape []), cached per value. */
  scalar(value: number): string;
  /** An int64 1-D constant (shapes, axes), cached per content. */
  int64s(values: number[]): string;
  /** Inferred shape of a forward value ('N' for the batch). */
  shapeOf(valueName: string): Dim[];
  /**
   * Writes `shape` into the compiled file for a value onnxruntime's shape inference loses (e.g.
   * Col2Im's batch): its blocked-layout pass keeps a Mul or Sum blocked only when it can prove
   * the inputs' shapes equal.
   */
  declareShape(valueName: string, shape: Dim[]): void;
  /** A weight or constant of the forward graph, if `valueName` is an initializer. */
  initializer(valueName: string): Tensor | undefined;
  /**
   * Exposes a value as an extra graph output (e.g. bias relevance); returns the output name
   * (`outputName`, made unique if taken). `shape` is the declared output shape (default: the
   * value's inferred shape when it is a forward value, else unknown dims).
   */
  output(valueName: string, outputName: string, shape?: Dim[]): string;
  /** The operator-set version the compiled graph is written for (≥ 18: ReduceSum takes axes as an input, ScatterElements has `reduction`, Col2Im exists). */
  readonly opsetVersion: number;
}

export interface BackwardContext {
  node: IrNode;
  graph: IrGraph;
  b: GraphBuilder;
  /** Name of the signal arriving at each output of the node (same shape as that output). */
  upstream: string[];
  /**
   * For reference-based rules (DeepLIFT): the name of the same value in the second forward
   * pass run on the baseline input; undefined when the compile has no baseline.
   */
  baselineValue?: (forwardValueName: string) => string;
  /**
   * Adds `signal` to the signal of `value`, a forward value this node depends on through nodes
   * the rule treats as one unit with it (an elementwise nonlinearity spelt over several nodes,
   * such as x·σ(x)): the unit's inner nodes then receive nothing and emit nothing. Ignored for
   * values that do not depend on the attributed input.
   */
  send(value: string, signal: string): void;
  /** 0-based index of this node among the linear layers (Conv/ConvTranspose/Gemm/MatMul with a weight), counted from the input; null for other nodes. */
  linearIndex: number | null;
  /** Number of linear layers in the graph. */
  linearCount: number;
}

/** Per node input: the name of the signal passed to that input, or null (weights, shapes, no flow). */
export type BackwardRule = (ctx: BackwardContext) => (string | null)[];

export interface RuleSet {
  /**
   * Chooses the rule for a node; throws UnsupportedOperatorError for ops it cannot handle. It is
   * asked for every node before anything is emitted, so `graph` holds the forward pass (and the
   * baseline's) only: the place to look at a node's neighbours.
   */
  ruleFor(node: IrNode, linearIndex: number | null, linearCount: number, graph: IrGraph): BackwardRule | undefined;
}

export interface CompileOptions {
  /**
   * What starts the backward pass at the logits [N, C]:
   * - 'seed-input': a graph input `seed` [N, C] fed by the caller (one-hot targets for gradients,
   *   p̄ − onehot for blame);
   * - 'seed-times-output': `seed` ⊙ logits, i.e. R = f_t(x) on the target (LRP).
   */
  start: 'seed-input' | 'seed-times-output';
  /** Adds a second input `baseline` and a second forward pass for reference-based rules. */
  withBaseline?: boolean;
  /** Which value's signal is returned as `attribution`; default: the model input. */
  attributionOf?: string;
}

export interface CompiledGraph {
  graph: IrGraph;
  /** Names of the graph inputs: x, seed, and baseline when requested. */
  inputNames: { input: string; seed: string; baseline?: string };
  /** `attribution` first, then any extra outputs rules registered, then `logits` (and `baseline_logits`). */
  outputNames: string[];
  /** Name of the output holding the forward logits [N, C] (free: the forward pass runs anyway). */
  logits: string;
  /** Name of the output holding the baseline's logits, when compiled `withBaseline`. */
  baselineLogits?: string;
  /** Extra outputs rules registered, by the name they asked for → the output name. */
  extraOutputs: Record<string, string>;
}
