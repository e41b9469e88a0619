import { createHash } from 'node:crypto';
import type { LoadedModel } from '../model.js';
import { sizeOf } from '../tensor.js';
import { rowBytesOf, UNSIZED_ROW_FACTOR, WEIGHT_COPIES, weightBytes, type GraphCost } from './memory.js';
import type { RowGraph } from './rows.js';
import { cachedSession, type OnnxSession, type SessionOptions } from './session.js';

const digests = new WeakMap<Uint8Array, string>();

/**
 * Cache identity of a model: the sha256 `loadModel` took of its bytes (external data
 * included), or for a model assembled in memory without one, a digest of its logit graph.
 */
export function modelKey(model: Pick<LoadedModel, 'sha256' | 'logitOnnx'>): string {
  if (model.sha256) return model.sha256;
  let d = digests.get(model.logitOnnx);
  if (!d) {
    d = createHash('sha256').update(model.logitOnnx).digest('hex');
    digests.set(model.logitOnnx, d);
  }
  return d;
}

/** The one cached session per model running its logit graph (forward passes of every method and metric). */
export function logitSession(model: Pick<LoadedModel, 'sha256' | 'logitOnnx'>, opts: SessionOptions = {}): Promise<OnnxSession> {
  return cachedSession(`logits:${modelKey(model)}`, () => model.logitOnnx, opts);
}

const costs = new WeakMap<Uint8Array, GraphCost>();

/** What the logit graph costs in memory, from the IR's activations (or the input size when there is no IR). */
export function logitCost(model: Pick<LoadedModel, 'graph' | 'inputShape' | 'logitOnnx'>): GraphCost {
  let cost = costs.get(model.logitOnnx);
  if (!cost) {
    cost = measureLogitCost(model);
    costs.set(model.logitOnnx, cost);
  }
  return cost;
}

function measureLogitCost(model: Pick<LoadedModel, 'graph' | 'inputShape' | 'logitOnnx'>): GraphCost {
  const rowBytes = model.graph ? rowBytesOf(model.graph) : undefined;
  return {
    rowBytes: rowBytes ?? UNSIZED_ROW_FACTOR * 4 * sizeOf(model.inputShape),
    fixedBytes: WEIGHT_COPIES * (model.graph ? weightBytes(model.graph) : model.logitOnnx.byteLength),
  };
}

/** The logit session with its cost: what the row runner takes. */
export async function logitGraph(model: LoadedModel, opts: SessionOptions = {}): Promise<RowGraph<OnnxSession>> {
  return { session: await logitSession(model, opts), cost: logitCost(model) };
}
