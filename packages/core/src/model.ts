import type { UnsupportedOp } from './errors.js';
import type { DType } from './tensor.js';
import type { IrGraph } from './ir/types.js';

/**
 * A model ready for Blameboard: the bytes onnxruntime runs and the IR the compiler reads.
 * Built by `loadModel` (core) from an ONNX file, by `loadTfjsModel` (@blameboard/tfjs) from a tfjs
 * model.json, or by the zoo from an id.
 */
export interface LoadedModel {
  /** Zoo id or the path the user gave. */
  id: string;
  /** The file it came from ('' when built in memory). */
  source: string;
  /** sha256 of the model bytes, external data inlined (cache keys, model cards): new weights, new key. */
  sha256: string;
  /** The original ONNX bytes (a tfjs model is converted first). */
  onnx: Uint8Array;
  /** ONNX bytes of the logit graph: a trailing Softmax/LogSoftmax removed. Forward passes run this. */
  logitOnnx: Uint8Array;
  /** True when the original ended in Softmax/LogSoftmax (probabilities are then its softmax). */
  hadSoftmax: boolean;
  /** IR of the logit graph; `null` when the model uses operators the IR cannot model. */
  graph: IrGraph | null;
  /** Operators the IR could not model (forward-only methods still work; onnxruntime runs them). */
  unsupported: UnsupportedOp[];
  /** Why `graph` is null, in one line (unsupported operators, an opset outside 7–21, …). */
  graphError?: string;
  /** Per-sample input shape, e.g. [1, 28, 28] or [784]. */
  inputShape: number[];
  inputName: string;
  /** Element type of the input (float32 when absent). */
  inputDtype?: DType;
  /** Number of outputs C of the [N, C] output. */
  outputSize: number;
}
