import type { ParamSpec, Tensor } from '@blameboard/core';
import { tensor, UsageError, validateInputs } from '@blameboard/core';
import { blurSigmaParam, FLOAT32_MAX, geometryShape } from '@blameboard/methods';
import { aggregate, InvalidSamples, markNonFiniteAttributions } from '../aggregate.js';
import { FILL_CHOICES, makeFill, type Fill } from '../perturbation/fills.js';
import { validatedRowsScorer, type OutputKind, type TargetScorer } from '../model-output.js';
import { isImageShape, morfOrder, regionGrid, regionScores, stageCounts, type RegionGrid } from '../perturbation/regions.js';
import { budgetOf, maxRowsOf, requireAttributions, sampleShapeOf } from '../request.js';
import type { Metric, MetricRequest, MetricResult, MetricValue } from '../types.js';

export type SelectivityOrder = 'both' | 'morf' | 'lerf';

export interface SelectivityOptions {
  patch: number;
  steps: number;
  fraction: number;
  order: SelectivityOrder;
  abs: boolean;
  /** Image layout of a flattened sample (`DataContext.imageShape`): the geometry of the region grid. */
  imageShape?: readonly number[];
  /** Perturbed rows built before each scorer call (memory bound); at least one sample's rows. */
  maxRows?: number;
}

/**
 * y_k per sample (k = 0…L) for each order computed; null for samples skipped as invalid. An
 * order not computed holds only nulls.
 */
export interface SelectivityCurves {
  morf: (Float64Array | null)[];
  lerf: (Float64Array | null)[];
}

/** Default patch: 4 px squares for images, single features for vectors (SPEC §4). */
export function defaultPatch(sampleShape: readonly number[]): number {
  return isImageShape(sampleShape) ? 4 : 1;
}

/**
 * Pixel-flipping curves. Per sample the distinct stage inputs (stage 0 = x shared by both
 * orders, the fully filled input shared when both orders reach it) are written once each into
 * one preallocated buffer of at most `maxRows` rows — each stage a copy of the previous stage's
 * row with only the newly added regions filled — and scored one buffer at a time, so memory is
 * bounded and no stage is run twice. The buffer handed to `score` is reused once its promise
 * settles (onnxruntime-node runs on this thread anyway, so building the next chunk meanwhile
 * would gain nothing).
 */
export async function selectivityCurves(
  inputs: Tensor,
  targets: Int32Array,
  attributions: Tensor,
  fill: Fill,
  opts: SelectivityOptions,
  score: TargetScorer,
  skip: (n: number) => boolean = () => false,
): Promise<SelectivityCurves> {
  const n = inputs.shape[0];
  const shape = sampleShapeOf(inputs);
  const grid = regionGrid(geometryShape(shape, opts.imageShape), opts.patch);
  const d = grid.featureCount;
  const regionCount = grid.count;
  const counts = stageCounts(regionCount, opts.steps, opts.fraction);
  const orders: ('morf' | 'lerf')[] = opts.order === 'both' ? ['morf', 'lerf'] : [opts.order];

  // Row plan (identical for every sample): row 0 = x, then each order's distinct positive counts;
  // rowOf[o][k] is the row of order o's stage k inside a sample's block.
  const plan = new Map<string, number>();
  const key = (order: string, count: number) => (count === 0 ? '0' : count === regionCount ? 'all' : `${order}:${count}`);
  plan.set('0', 0);
  const rowOf = orders.map((order) =>
    Int32Array.from(counts, (c) => {
      const k = key(order, c);
      if (!plan.has(k)) plan.set(k, plan.size);
      return plan.get(k)!;
    }),
  );
  const rowsPerSample = plan.size;

  const curves: SelectivityCurves = { morf: new Array(n).fill(null), lerf: new Array(n).fill(null) };
  const active: number[] = [];
  for (let i = 0; i < n; i++) if (!skip(i)) active.push(i);
  const perChunk = Math.max(1, Math.min(active.length, Math.floor((opts.maxRows ?? 1024) / rowsPerSample)));
  const writer = new StageWriter(grid, counts, rowOf, orders.map((o) => o === 'lerf'), rowsPerSample, perChunk);
  const xs = inputs.data as Float32Array;
  const attr = attributions.data as Float32Array;
  for (let start = 0; start < active.length; start += perChunk) {
    const chunk = active.slice(start, start + perChunk);
    for (let c = 0; c < chunk.length; c++) {
      const s = chunk[c];
      const x = xs.subarray(s * d, (s + 1) * d);
      writer.writeSample(c, x, fill(x), morfOrder(regionScores(grid, attr, s * d, opts.abs)), targets[s]);
    }
    const used = chunk.length * rowsPerSample;
    const y = await score(tensor('float32', [used, ...shape], writer.rows.subarray(0, used * d)), writer.targets.subarray(0, used));
    for (let c = 0; c < chunk.length; c++) {
      for (let o = 0; o < orders.length; o++) curves[orders[o]][chunk[c]] = writer.curve(y, c, o);
    }
  }
  return curves;
}

/**
 * The chunk buffer and its filling. Kept apart from the async driver as small monomorphic
 * methods over typed arrays, so V8 optimises them within the first call instead of
 * deoptimising the whole driver several times (measured: the first few calls built 3–4× slower).
 */
class StageWriter {
  readonly rows: Float32Array;
  readonly targets: Int32Array;
  private readonly written: Uint8Array;
  private readonly d: number;
  private readonly regionCount: number;
  /** Members of region r: memberList[memberStart[r] … memberStart[r + 1]). */
  private readonly memberStart: Int32Array;
  private readonly memberList: Int32Array;

  constructor(
    grid: RegionGrid,
    private readonly counts: Int32Array,
    private readonly rowOf: Int32Array[],
    private readonly reversed: boolean[],
    private readonly rowsPerSample: number,
    samples: number,
  ) {
    this.d = grid.featureCount;
    this.regionCount = grid.count;
    this.rows = new Float32Array(samples * rowsPerSample * this.d);
    this.targets = new Int32Array(samples * rowsPerSample);
    this.written = new Uint8Array(rowsPerSample);
    this.memberStart = new Int32Array(grid.count + 1);
    this.memberList = new Int32Array(grid.featureCount);
    for (let r = 0; r < grid.count; r++) {
      this.memberList.set(grid.members[r], this.memberStart[r]);
      this.memberStart[r + 1] = this.memberStart[r] + grid.members[r].length;
    }
  }

  /** Writes sample slot c's distinct stage rows: x, then per order each stage from the previous one. */
  writeSample(c: number, x: Float32Array, fillValues: Float32Array, morf: Int32Array, target: number): void {
    const base = c * this.rowsPerSample;
    this.targets.fill(target, base, base + this.rowsPerSample);
    this.rows.set(x, base * this.d);
    this.written.fill(0);
    this.written[0] = 1;
    for (let o = 0; o < this.rowOf.length; o++) this.writeOrder(base, fillValues, morf, this.rowOf[o], this.reversed[o]);
  }

  private writeOrder(base: number, fillValues: Float32Array, morf: Int32Array, stageRows: Int32Array, reversed: boolean): void {
    const { rows, d, counts, written, memberStart, memberList } = this;
    const last = this.regionCount - 1;
    let previous = 0;
    let filled = 0;
    for (let k = 0; k < counts.length; k++) {
      const row = stageRows[k];
      const target = counts[k];
      if (written[row] === 0) {
        const at = (base + row) * d;
        rows.copyWithin(at, (base + previous) * d, (base + previous + 1) * d);
        for (let r = filled; r < target; r++) {
          const region = morf[reversed ? last - r : r];
          for (let j = memberStart[region]; j < memberStart[region + 1]; j++) {
            const f = memberList[j];
            rows[at + f] = fillValues[f];
          }
        }
        written[row] = 1;
      }
      previous = row;
      filled = target;
    }
  }

  /** Order o's curve y_0…y_L of sample slot c from the scores of the chunk's rows. */
  curve(y: Float64Array, c: number, o: number): Float64Array {
    const base = c * this.rowsPerSample;
    const stageRows = this.rowOf[o];
    const out = new Float64Array(stageRows.length);
    for (let k = 0; k < stageRows.length; k++) out[k] = y[base + stageRows[k]];
    return out;
  }
}

/** ABPC: (1/(L+1)) Σ_k (y_k^LeRF − y_k^MoRF). */
function abpc(morf: Float64Array, lerf: Float64Array): number {
  let s = 0;
  for (let k = 0; k < morf.length; k++) s += lerf[k] - morf[k];
  return s / morf.length;
}

/** AOPC: (1/(L+1)) Σ_k (y_0 − y_k). */
function aopc(curve: Float64Array): number {
  let s = 0;
  for (let k = 0; k < curve.length; k++) s += curve[0] - curve[k];
  return s / curve.length;
}

const params: ParamSpec[] = [
  { name: 'patch', type: 'integer', min: 1, max: 4096, description: 'side of the square regions in pixels (default 4 for images, 1 feature for vectors)' },
  { name: 'steps', type: 'integer', default: 32, min: 1, max: 4096, description: 'perturbation stages L after stage 0 (at most 4096)' },
  { name: 'fraction', type: 'number', default: 1, min: 0, max: 1, description: 'share of the regions filled by the last stage' },
  { name: 'order', type: 'string', default: 'both', choices: ['both', 'morf', 'lerf'], description: 'most- and/or least-relevant-first' },
  {
    name: 'fill',
    type: 'string',
    default: 'uniform',
    choices: [...FILL_CHOICES],
    allowNumber: true,
    min: -FLOAT32_MAX,
    max: FLOAT32_MAX,
    description: 'what replaces a region: zero, dataset mean, seeded uniform noise in the input range, blur, or a number',
  },
  blurSigmaParam,
  { name: 'output', type: 'string', default: 'probability', choices: ['probability', 'logit'], description: 'which output of the target the curves follow' },
  { name: 'abs', type: 'boolean', default: false, description: 'score regions by the sum of |R| instead of R' },
];

export const selectivity: Metric = {
  id: 'selectivity',
  description:
    'pixel flipping / region perturbation: fill regions most- and least-relevant first and follow the target output; ABPC (area between the curves), AOPC',
  needs: 'attributions',
  params,
  async evaluate(request: MetricRequest): Promise<MetricResult> {
    const attributions = requireAttributions(request, 'selectivity');
    const p = request.params;
    const seed = request.seed ?? 0;
    const shape = sampleShapeOf(request.inputs);
    const imageShape = request.data?.imageShape;
    const patch = (p.patch as number | undefined) ?? defaultPatch(geometryShape(shape, imageShape));
    const invalid = new InvalidSamples();
    markNonFiniteAttributions(attributions, invalid);
    const fill = makeFill(p.fill as string | number, {
      sampleShape: shape,
      mean: request.data?.mean,
      range: request.data?.range,
      imageShape,
      inputs: request.inputs,
      seed,
      blurSigma: p.blurSigma as number,
      owner: 'selectivity fill',
    });
    const opts: SelectivityOptions = {
      patch,
      steps: p.steps as number,
      fraction: p.fraction as number,
      order: p.order as SelectivityOrder,
      abs: p.abs as boolean,
      imageShape,
      maxRows: await maxRowsOf(request),
    };
    const output = p.output as OutputKind;
    // The perturbed rows mix x and fill values only, so checking both here lets the scorer skip
    // forward()'s scan of every row.
    validateInputs(request.model, request.inputs);
    const scorer = validatedRowsScorer(request.model, output, budgetOf(request));
    const curves = await selectivityCurves(request.inputs, request.targets, attributions, finiteFill(fill), opts, scorer, (i) => invalid.has(i));
    return selectivityResult(curves, opts.order, { ...p, patch }, seed, invalid, request.inputs.shape[0]);
  },
};

/** The fill, refusing a non-finite value (the model would see it) with one line. */
function finiteFill(fill: Fill): Fill {
  return (x) => {
    const v = fill(x);
    for (let i = 0; i < v.length; i++) {
      if (!Number.isFinite(v[i])) throw new UsageError(`selectivity fill: value ${v[i]} at feature ${i} is not finite`);
    }
    return v;
  };
}

export function selectivityResult(
  curves: SelectivityCurves,
  order: SelectivityOrder,
  params: Record<string, unknown>,
  seed: number,
  invalid: InvalidSamples,
  n: number,
): MetricResult {
  const per = (f: (i: number) => number) => Float64Array.from({ length: n }, (_, i) => f(i));
  const values: Record<string, MetricValue> = {};
  const agg = { seed, invalid };
  const { morf, lerf } = curves;
  if (order === 'both') {
    values.abpc = aggregate('abpc', per((i) => (morf[i] && lerf[i] ? abpc(morf[i]!, lerf[i]!) : NaN)), 'higher', agg);
  }
  if (order !== 'lerf') {
    values.aopcMorf = aggregate('aopcMorf', per((i) => (morf[i] ? aopc(morf[i]!) : NaN)), 'higher', agg);
  }
  if (order !== 'morf') {
    values.aopcLerf = aggregate('aopcLerf', per((i) => (lerf[i] ? aopc(lerf[i]!) : NaN)), 'lower', agg);
  }
  const list = invalid.list();
  return {
    metric: 'selectivity',
    params,
    values,
    curves: {
      ...(order !== 'lerf' ? { morf: morf.map(curveJson) } : {}),
      ...(order !== 'morf' ? { lerf: lerf.map(curveJson) } : {}),
    },
    ...(list.length ? { invalid: list } : {}),
  };
}

/** A curve as JSON: null marks an invalid sample. */
const curveJson = (c: Float64Array | null): number[] | null => (c ? Array.from(c) : null);
