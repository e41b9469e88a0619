import type { IrGraph } from '@blameboard/core';

/** What the zoo ships beside every `<id>.onnx` as `<id>.card.json`. */
export interface ModelCard {
  id: string;
  description: string;
  /** One line per layer, in the ONNX graph's order. */
  architecture: string[];
  parameterCount: number;
  dataset: string;
  /** Classification: accuracy of the shipped ONNX on the whole test split. */
  testAccuracy?: number;
  /** Regression: R² of the shipped ONNX on the held-out split. */
  r2?: number;
  /** The floor the spec sets for `testAccuracy` / `r2`. */
  floor?: number;
  seed?: number;
  epochs?: number;
  trainingSeconds?: number;
  /** sha256 (hex) of the .onnx file. */
  sha256: string;
  /** tfjs backend and version the model was trained with. */
  backend?: string;
  tfjsVersion?: string;
  opset: number;
  /** Per-sample input shape of the ONNX model. */
  inputShape: number[];
  outputSize: number;
  /** Twins: the zoo model it was derived from and how. */
  derivedFrom?: { id: string; transform: string };
  /** Twins and pairs: largest |a − b| of the two models' outputs on `checkedOn` samples. */
  maxAbsDifference?: number;
  checkedOn?: number;
  /** Training: largest |tfjs − onnxruntime| output difference on 1000 test samples. */
  exportMaxAbsDifference?: number;
}

export interface ZooEntry {
  id: string;
  /** Absolute path of the shipped .onnx. */
  file: string;
  dataset: string;
  /** Read from `<id>.card.json` on first access. */
  readonly card: ModelCard;
}

export interface EquivalentPair {
  id: string;
  a: string;
  b: string;
  dataset: string;
}

/** An ONNX model the zoo builds (trained, derived or copied), before it is written. */
export interface BuiltModel {
  graph: IrGraph;
  card: Omit<ModelCard, 'sha256' | 'architecture' | 'parameterCount' | 'opset' | 'inputShape' | 'outputSize'>;
}
