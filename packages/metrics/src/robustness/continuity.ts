import type { ParamSpec, Tensor } from '@blameboard/core';
import { tensor } from '@blameboard/core';
import { geometryShape } from '@blameboard/methods';
import { aggregate, InvalidSamples } from '../aggregate.js';
import { methodExplainer, type Explainer } from '../explainer.js';
import { inputRange } from '../perturbation/fills.js';
import { randomDirection, straightPath, translationPath } from './paths.js';
import { isImageShape } from '../perturbation/regions.js';
import { budgetOf, maxRowsOf, requireMethod, sampleShapeOf, sampleSize, sampleView } from '../request.js';
import type { Metric, MetricRequest, MetricResult } from '../types.js';

export interface ContinuityOptions {
  /** Pixels (images) or input units (vectors) travelled from x. */
  distance: number;
  steps: number;
  direction: 'horizontal' | 'vertical';
  /** Seed of the vector path's direction. */
  seed: number;
  /** Image layout of a flattened sample (`DataContext.imageShape`): makes the path a translation. */
  imageShape?: readonly number[];
  /** Path rows explained per call. */
  maxRows?: number;
}

/**
 * max_j ‖R(x_j) − R(x_{j+1})‖₁ / ‖x_j − x_{j+1}‖₂ over consecutive path points; pairs where the
 * input does not move are skipped (NaN when none moves).
 */
export function lipschitzEstimate(points: Float32Array[], maps: Float32Array[]): number {
  let best = NaN;
  for (let j = 0; j + 1 < points.length; j++) {
    let dx = 0;
    let dr = 0;
    const p = points[j];
    const q = points[j + 1];
    for (let i = 0; i < p.length; i++) dx += (p[i] - q[i]) ** 2;
    if (dx === 0) continue;
    for (let i = 0; i < p.length; i++) dr += Math.abs(maps[j][i] - maps[j + 1][i]);
    const ratio = dr / Math.sqrt(dx);
    if (!(ratio <= best)) best = ratio;
  }
  return best;
}

/** Continuity of an explainer on every sample, with reasons for the samples it cannot score. */
export async function continuityScores(
  inputs: Tensor,
  targets: Int32Array,
  explainer: Explainer,
  opts: ContinuityOptions,
  invalid: InvalidSamples,
): Promise<Float64Array> {
  const n = inputs.shape[0];
  const shape = sampleShapeOf(inputs);
  const d = sampleSize(inputs);
  const steps = opts.steps;
  const geometry = geometryShape(shape, opts.imageShape);
  const image = isImageShape(geometry);
  const u = image ? null : randomDirection(d, opts.seed);
  const pathOf = (x: Float32Array) =>
    image ? translationPath(x, geometry, opts.distance, steps, opts.direction) : straightPath(x, u!, opts.distance, steps);

  const out = new Float64Array(n).fill(NaN);
  const perChunk = Math.max(1, Math.floor((opts.maxRows ?? 1024) / (steps + 1)));
  for (let start = 0; start < n; start += perChunk) {
    const chunk = Array.from({ length: Math.min(perChunk, n - start) }, (_, i) => start + i);
    const paths = chunk.map((s) => pathOf(sampleView(inputs, s)));
    const rows = new Float32Array(chunk.length * (steps + 1) * d);
    const rowTargets = new Int32Array(chunk.length * (steps + 1));
    paths.forEach((path, c) => {
      path.forEach((p, j) => rows.set(p, (c * (steps + 1) + j) * d));
      rowTargets.fill(targets[chunk[c]], c * (steps + 1), (c + 1) * (steps + 1));
    });
    const { attributions } = await explainer(tensor('float32', [rows.length / d, ...shape], rows), rowTargets);
    const maps = attributions.data as Float32Array;
    paths.forEach((path, c) => {
      const s = chunk[c];
      const rs = path.map((_, j) => maps.subarray((c * (steps + 1) + j) * d, (c * (steps + 1) + j + 1) * d));
      const bad = rs.findIndex((r) => r.some((v) => !Number.isFinite(v)));
      if (bad >= 0) {
        invalid.mark(s, `re-explained attribution has NaN/Inf at path point ${bad}`);
        return;
      }
      out[s] = lipschitzEstimate(path, rs);
      if (Number.isNaN(out[s])) invalid.mark(s, 'the path does not move the input (constant along the direction)');
    });
  }
  return out;
}

const params: ParamSpec[] = [
  {
    name: 'distance',
    type: 'number',
    min: 0,
    max: 1e4,
    description: 'length of the path: pixels of translation for images (default 4), input units for vectors (default 0.05·range); at most 1e4',
  },
  { name: 'steps', type: 'integer', default: 16, min: 1, max: 1024, description: 'path segments (steps + 1 points are explained; at most 1024)' },
  { name: 'direction', type: 'string', default: 'horizontal', choices: ['horizontal', 'vertical'], description: 'translation axis for images' },
];

export const continuity: Metric = {
  id: 'continuity',
  description: "continuity: max over a smooth input path of ‖ΔR‖₁/‖Δx‖₂ (Montavon et al. 2018's Lipschitz estimate)",
  needs: 'method',
  params,
  async evaluate(request: MetricRequest): Promise<MetricResult> {
    const method = requireMethod(request, 'continuity');
    const seed = request.seed ?? 0;
    const imageShape = request.data?.imageShape;
    const shape = geometryShape(sampleShapeOf(request.inputs), imageShape);
    let distance = request.params.distance as number | undefined;
    if (distance === undefined) {
      if (isImageShape(shape)) distance = 4;
      else {
        const [lo, hi] = request.data?.range ?? inputRange(request.inputs, 'continuity');
        distance = 0.05 * (hi - lo);
      }
    }
    const opts: ContinuityOptions = {
      distance,
      steps: request.params.steps as number,
      direction: request.params.direction as ContinuityOptions['direction'],
      seed,
      imageShape,
      maxRows: await maxRowsOf(request),
    };
    const invalid = new InvalidSamples();
    const explainer = methodExplainer(request.model, method, request.data, budgetOf(request));
    const scores = await continuityScores(request.inputs, request.targets, explainer, opts, invalid);
    const values = { lipschitz: aggregate('lipschitz', scores, 'lower', { seed, invalid }) };
    const list = invalid.list();
    return { metric: 'continuity', params: { ...request.params, distance }, values, ...(list.length ? { invalid: list } : {}) };
  },
};
