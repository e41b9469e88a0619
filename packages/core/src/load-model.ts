import { createHash } from 'node:crypto';
import { existsSync, statSync } from 'node:fs';
import path from 'node:path';
import { InputError, ModelLoadError, UnsupportedOperatorError, type UnsupportedOp } from './errors.js';
import { MAX_FILE_BYTES } from './files.js';
import { allFinite } from './finite.js';
import type { IrGraph, IrValue } from './ir/types.js';
import type { LoadedModel } from './model.js';
import type { OnnxModelProto } from './onnx/onnx.proto.js';
import { declaredValues, decodeModelInfo, irFromModel, prepareGraph, readModelFile } from './onnx/read.js';
import { encodeModel } from './onnx/write.js';
import { allocate, bytesPerElement } from './onnx/tensor-proto.js';
import { logitCost, logitSession } from './runtime/logit-graph.js';
import { defaultMemoryBudget, formatBytes, MAX_FIXED_BATCH, memoryNeeded } from './runtime/memory.js';
import { sizeOf, type Tensor } from './tensor.js';

/**
 * An ONNX file's path, or ONNX bytes with the id to report them by (`baseDir`: where external data
 * files are looked up; `file`: the file they came from, recorded as `LoadedModel.source`).
 */
export type ModelSource = string | { bytes: Uint8Array; id: string; baseDir?: string; file?: string };

/**
 * Loads an ONNX file (or bytes) as a LoadedModel: strips a trailing
 * Softmax/LogSoftmax so forward passes and explanations see logits, builds the IR when every
 * operator is supported (else `graph: null` with the offenders in `unsupported`), and opens the
 * onnxruntime session once so a model onnxruntime rejects fails here, not mid-run.
 */
export async function loadModel(source: ModelSource): Promise<LoadedModel> {
  let bytes: Uint8Array;
  let id: string;
  let file = '';
  let baseDir: string | undefined;
  if (typeof source === 'string') {
    id = source;
    file = source;
    if (tfjsModelJson(source)) {
      // Core reads ONNX only: tfjs (and its install size) stays out of it.
      throw new ModelLoadError(`'${source}' is a TensorFlow.js model: @blameboard/core reads ONNX only; load it with loadTfjsModel from @blameboard/tfjs (the blameboard CLI does this itself)`);
    }
    bytes = readModelFile(source);
    baseDir = path.dirname(path.resolve(source));
  } else {
    ({ bytes, id, baseDir } = source);
    file = source.file ?? '';
  }
  const { model, external: inlined } = decodeModelInfo(bytes, { baseDir });
  const onnx = inlined ? encodeModel(model) : bytes;
  // The weights are part of the identity: with external data, hash the model they were inlined into.
  const sha256 = createHash('sha256').update(onnx).digest('hex');
  const stripped = stripTrailingSoftmax(model);
  const logitOnnx = stripped || inlined ? encodeModel(model) : bytes;

  const declared = declaredValues(model);
  const declaredInputs = declared.inputs;
  let graph: IrGraph | null = null;
  let unsupported: UnsupportedOp[] = [];
  let graphError: string | undefined;
  try {
    graph = prepareGraph(irFromModel(model));
  } catch (e) {
    // The IR is needed only by compiled methods: forward passes run the model's own ONNX, so a
    // graph the IR cannot model (an operator, an opset, a shape it cannot follow) still loads.
    if (!(e instanceof UnsupportedOperatorError || e instanceof ModelLoadError)) throw e;
    if (e instanceof UnsupportedOperatorError) unsupported = e.ops;
    graphError = e.message;
  }

  if (declaredInputs.length !== 1) {
    throw new ModelLoadError(`Blameboard models have exactly one input; '${id}' has ${declaredInputs.length}: ${declaredInputs.map((v) => v.name).join(', ')}`);
  }
  const input = declaredInputs[0];
  const inputShape = perSampleShape(input, id);

  const partial = { onnx, logitOnnx, hadSoftmax: stripped, sha256 };
  // The logit session opens here only when it must: to run a model the IR cannot model (so a
  // model onnxruntime refuses is refused now), or to learn an output size the declarations do
  // not give. Otherwise the first forward pass opens it: a compiled method with given targets
  // never needs it (resnet50: 0.2–0.5 s and a copy of the weights per process).
  let outputSize = outputSizeOf(graph?.outputs[0]?.shape) ?? outputSizeOf(declared.outputs[0]?.shape);
  if (!graph || outputSize === undefined) {
    const session = await logitSession(partial);
    // onnxruntime's own shape inference sizes most outputs a graph does not declare; running the
    // model once is the last resort, and it is charged against the memory budget like any run.
    outputSize ??= outputSizeOf(session.outputShape) ?? (await probeOutputSize(session, input, inputShape, { id, graph, logitOnnx }));
  }
  outputSize = checkOutputSize(outputSize, id);

  return {
    id,
    source: file,
    sha256,
    onnx,
    logitOnnx,
    hadSoftmax: stripped,
    graph,
    unsupported,
    ...(graphError ? { graphError } : {}),
    inputShape,
    inputName: input.name,
    inputDtype: input.dtype,
    outputSize,
  };
}

/** Removes a Softmax/LogSoftmax that produces the first graph output; true when it did. */
function stripTrailingSoftmax(model: OnnxModelProto): boolean {
  const g = model.graph!;
  const out = g.output[0];
  if (!out) return false;
  const i = g.node.findIndex((n) => n.output.includes(out.name));
  const node = g.node[i];
  if (!node || (node.op_type !== 'Softmax' && node.op_type !== 'LogSoftmax') || (node.domain && node.domain !== 'ai.onnx')) return false;
  const logits = node.input[0];
  if (g.output.some((o) => o.name === logits) || g.input.some((v) => v.name === logits)) return false;
  if (g.node.some((n, j) => j !== i && n.input.includes(out.name))) return false;
  g.node.splice(i, 1);
  out.name = logits;
  g.value_info = g.value_info.filter((v) => v.name !== logits);
  return true;
}

/**
 * The per-sample shape of the model's input, checked before anything is allocated: a fixed batch
 * of 1…MAX_FIXED_BATCH rows (or a symbolic one; a negative size means "any", as onnxruntime
 * reads it), fixed positive feature dimensions, and one sample no larger than the largest input
 * file Blameboard reads (a model declaring [N, 2³¹] could never be fed).
 */
function perSampleShape(input: IrValue, id: string): number[] {
  if (input.shape.length < 2) {
    throw new ModelLoadError(`the input '${input.name}' of '${id}' must be [N, …] with at least one feature dimension, got [${input.shape.join(',')}]`);
  }
  const batch = input.shape[0];
  if (typeof batch === 'number' && (batch === 0 || batch > MAX_FIXED_BATCH || !Number.isSafeInteger(batch))) {
    throw new ModelLoadError(
      `the input '${input.name}' of '${id}' fixes its batch at ${batch} rows; Blameboard runs a fixed batch of 1 to ${MAX_FIXED_BATCH} rows (padding every run to it): re-export the model with a variable batch axis`,
    );
  }
  const rest = input.shape.slice(1);
  const bad = rest.find((d) => typeof d !== 'number' || d <= 0 || !Number.isSafeInteger(d));
  if (bad !== undefined) {
    throw new ModelLoadError(`the input '${input.name}' of '${id}' has a variable or invalid dimension '${bad}' ([${input.shape.join(',')}]); Blameboard needs a fixed per-sample shape`);
  }
  const sample = rest as number[];
  const bytes = sizeOf(sample) * bytesPerElement(input.dtype);
  if (!(bytes <= MAX_FILE_BYTES)) {
    throw new ModelLoadError(
      `one sample of the input '${input.name}' of '${id}' ([${sample.join(',')}] ${input.dtype}) is ${formatBytes(bytes)}, more than the ${formatBytes(MAX_FILE_BYTES)} an input file may hold`,
    );
  }
  return sample;
}

/** Values per sample of an [N, …] output shape whose other dimensions are all known; undefined otherwise. */
function outputSizeOf(shape: readonly (number | string)[] | undefined): number | undefined {
  if (!shape || shape.length === 0) return undefined;
  const rest = shape.slice(1);
  return rest.every((d) => typeof d === 'number' && d >= 0) ? sizeOf(rest as number[]) : undefined;
}

function checkOutputSize(size: number, id: string): number {
  if (!Number.isSafeInteger(size) || size < 1 || size * 4 > MAX_FILE_BYTES) {
    throw new ModelLoadError(`the output of '${id}' has ${size} values per sample; Blameboard needs [N, C] with 1 ≤ C ≤ ${MAX_FILE_BYTES / 4}`);
  }
  return size;
}

async function probeOutputSize(
  session: Awaited<ReturnType<typeof logitSession>>,
  input: IrValue,
  inputShape: number[],
  model: { id: string; graph: IrGraph | null; logitOnnx: Uint8Array },
): Promise<number> {
  const n = session.fixedBatch ?? 1;
  const cost = logitCost({ graph: model.graph, inputShape, logitOnnx: model.logitOnnx });
  const budget = defaultMemoryBudget();
  if (memoryNeeded(cost, n) > budget) {
    throw new ModelLoadError(
      `'${model.id}' declares no output shape, and running ${n} row${n === 1 ? '' : 's'} to find it needs about ${formatBytes(memoryNeeded(cost, n))}, more than the memory budget of ${formatBytes(budget)}`,
    );
  }
  const x: Tensor = { dtype: input.dtype, shape: [n, ...inputShape], data: allocate(input.dtype, n * sizeOf(inputShape)) };
  const out = await session.run({ [input.name]: x });
  const y = out[session.outputNames[0]];
  return y.shape.length <= 1 ? 1 : sizeOf(y.shape.slice(1));
}

/** The model.json a path names: the file itself (`*.json`), or the one inside a tfjs model folder. */
export function tfjsModelJson(source: string): string | undefined {
  if (/\.json$/i.test(source)) return source;
  const inside = path.join(source, 'model.json');
  return existsSync(source) && statSync(source).isDirectory() && existsSync(inside) ? inside : undefined;
}

/** Throws InputError unless `inputs` is [n, ...model.inputShape] of the model's dtype, n ≥ 1, all finite. */
export function validateInputs(model: LoadedModel, inputs: Tensor): void {
  const want = ['N', ...model.inputShape];
  const dtype = model.inputDtype ?? 'float32';
  if (inputs.dtype !== dtype) {
    throw new InputError(`inputs are ${inputs.dtype} but model '${model.id}' expects ${dtype}`);
  }
  const fits = inputs.shape.length === want.length && inputs.shape.slice(1).every((d, i) => d === model.inputShape[i]);
  if (!fits) {
    throw new InputError(`inputs have shape [${inputs.shape.join(',')}] but model '${model.id}' expects [${want.join(',')}]`);
  }
  if (inputs.shape[0] < 1) throw new InputError('inputs hold no samples');
  if (inputs.data.length !== sizeOf(inputs.shape)) {
    throw new InputError(`inputs hold ${inputs.data.length} values but shape [${inputs.shape.join(',')}] needs ${sizeOf(inputs.shape)}`);
  }
  if ((inputs.data instanceof Float32Array || inputs.data instanceof Float64Array) && !allFinite(inputs.data)) {
    const d = inputs.data;
    for (let i = 0; i < d.length; i++) {
      const v = d[i];
      if (v - v !== 0) {
        const per = sizeOf(model.inputShape);
        const sample = Math.floor(i / per);
        const at = unravel(i % per, model.inputShape);
        throw new InputError(`inputs contain ${Number.isNaN(v) ? 'NaN' : v > 0 ? 'Infinity' : '-Infinity'} at sample ${sample}, position [${at.join(',')}] (flat index ${i})`);
      }
    }
  }
}

/** Throws InputError unless there are `n` targets, each a valid output index of the model. */
export function validateTargets(model: LoadedModel, targets: Int32Array, n: number): void {
  if (targets.length !== n) throw new InputError(`got ${targets.length} targets for ${n} samples`);
  for (let i = 0; i < targets.length; i++) {
    const t = targets[i];
    if (t < 0 || t >= model.outputSize) {
      throw new InputError(`target ${t} at sample ${i} is out of range: model '${model.id}' has ${model.outputSize} output${model.outputSize === 1 ? '' : 's'} (valid: 0…${model.outputSize - 1})`);
    }
  }
}

function unravel(flat: number, shape: number[]): number[] {
  const out = new Array<number>(shape.length);
  for (let d = shape.length - 1; d >= 0; d--) {
    out[d] = flat % shape[d];
    flat = Math.floor(flat / shape[d]);
  }
  return out;
}
