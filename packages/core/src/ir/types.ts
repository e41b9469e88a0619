import type { DType, Tensor } from '../tensor.js';

/**
 * The layer-graph IR: an ONNX graph after decoding, constant folding and shape inference.
 * Each node is one "layer" (Conv, Gemm, Relu, MaxPool, …) in topological order; weights live in
 * `initializers`. Attributes keep their ONNX type so that IR → ONNX → IR round-trips exactly.
 */
export type Attribute =
  | { type: 'float'; value: number }
  | { type: 'int'; value: number }
  | { type: 'string'; value: string }
  | { type: 'tensor'; value: Tensor }
  | { type: 'floats'; value: number[] }
  | { type: 'ints'; value: number[] }
  | { type: 'strings'; value: string[] };

export interface IrNode {
  name: string;
  opType: string;
  /** '' for the default ONNX domain. */
  domain: string;
  inputs: string[];
  outputs: string[];
  attributes: Record<string, Attribute>;
}

/** A dimension: a number, or a symbolic name such as 'N' for the batch. */
export type Dim = number | string;

export interface IrValue {
  name: string;
  dtype: DType;
  shape: Dim[];
}

export interface IrGraph {
  name: string;
  irVersion: number;
  /** Version of the default ('' / 'ai.onnx') operator set. */
  opsetVersion: number;
  producerName: string;
  /** Graph inputs that are not initializers. Blameboard models have exactly one. */
  inputs: IrValue[];
  outputs: IrValue[];
  /** Weights and constants, in file order. */
  initializers: Map<string, Tensor>;
  /** Topologically sorted. */
  nodes: IrNode[];
  /** Inferred shape and dtype of every intermediate value (filled by shape inference). */
  values: Map<string, IrValue>;
  /**
   * Shapes written into the file as ONNX `value_info`, for values whose shape onnxruntime's own
   * inference cannot follow (a compiled graph declares some of its backward values).
   */
  declared?: IrValue[];
}
