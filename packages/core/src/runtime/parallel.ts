import os from 'node:os';
import { UsageError } from '../errors.js';
import type { Tensor } from '../tensor.js';
import type { OnnxSession } from './session.js';
import { defaultThreads } from './session-options.js';
import type { WorkerSessionPool } from './worker-pool.js';
import { onnxruntimeVersion } from './version.js';

/** How a graph's rows are run: one session with every thread, or worker sessions of one thread each. */
export type RunMode = 'session' | 'workers';

/**
 * Milliseconds per row of one run, and whether it was the mode's first run in its process (a
 * first run also counts the time its mode took to open).
 */
export interface RunSample {
  mode: RunMode;
  msPerRow: number;
  first: boolean;
}

/**
 * The measured choice for one graph on one machine. `basis` says which runs decided it: a
 * process's first runs (what a one-run job pays: the arena grows, pages are touched) or later,
 * steady runs (what a long job pays per run).
 */
export interface ModeChoice {
  mode: RunMode;
  basis: 'first runs' | 'steady runs';
  msPerRow: Record<RunMode, number>;
  machine: string;
}

/** Where a choice is kept between processes (next to the compiled graph, see @blameboard/methods). */
export interface ChoiceStore {
  load(machine: string): ModeChoice | undefined;
  save(choice: ModeChoice): void;
}

/** What a run may use: the row runner forbids the workers when their extra weights would exceed the memory budget. */
export interface RunOptions {
  allowWorkers?: boolean;
  /** How many runs the job makes in all: a job of many runs too small to split measures on whole runs. */
  runsInJob?: number;
}

/** Environment variable forcing how compiled graphs run: session, workers, or measure (the default with a compile cache). */
export const PARALLEL_ENV = 'BLAMEBOARD_PARALLEL';

/** Environment variable that, set, makes a measured run-mode choice print one line on stderr. */
export const PARALLEL_LOG_ENV = 'BLAMEBOARD_PARALLEL_LOG';

/** BLAMEBOARD_PARALLEL, checked: undefined when unset. */
export function parallelSetting(): RunMode | 'measure' | undefined {
  const v = process.env[PARALLEL_ENV]?.trim();
  if (!v) return undefined;
  if (v === 'session' || v === 'workers' || v === 'measure') return v;
  throw new UsageError(`${PARALLEL_ENV} must be session, workers or measure, got '${v}'`);
}

/** The machine a choice holds for: CPU model, cores, threads and the onnxruntime version. */
export function machineFingerprint(threads: number = defaultThreads()): string {
  const cpus = os.cpus();
  return `${cpus[0]?.model ?? 'unknown cpu'} × ${cpus.length}; threads ${threads}; onnxruntime ${onnxruntimeVersion()}; ${process.platform}-${process.arch}`;
}

/** Steady runs each mode needs before a choice made while measuring is final. */
export const STEADY_SAMPLES = 2;
/** Rows each worker gets, at least, when a first run is split to time both modes. */
export const MIN_ROWS_PER_WORKER = 2;
/**
 * Whole runs are measured in alternating blocks of this many runs per mode (session, workers,
 * session, workers): a block's first run follows the other mode and is no sample, the others are.
 */
export const WHOLE_RUN_BLOCK = 3;
/**
 * Steady samples each mode needs when whole runs are measured: two blocks each, taken at
 * different times. One block per mode (two samples each) chose efficientnet_b0's SmoothGrad
 * mode by noise on a shared VM: 0.81 in one process, 0.95 in the next, where whole processes on
 * the workers were 15% faster.
 */
export const WHOLE_RUN_SAMPLES = 2 * (WHOLE_RUN_BLOCK - 1);
/**
 * Runs a job must make for runs too small to split to be measured whole, alternating modes: IG and
 * SmoothGrad at 224×224 run 4 rows at a time (128 runs for IG-32 on 16 images), where the
 * workers took efficientnet_b0's IG-16 from 4.9–5.2 to 4.0–4.4 s and resnet50's IG-8 from 6.6 to
 * 7.5 s, so only a measurement can choose; a job of fewer such runs never opens a pool for it.
 */
export const MIN_RUNS_TO_MEASURE_WHOLE = 4 * WHOLE_RUN_BLOCK;

/**
 * How much faster the workers must be to be chosen: each holds its own copy of the graph's
 * weights (resnet50's gradient: +0.8 GB peak RSS), which a marginal or noisy gain does not pay for.
 */
export const WORKERS_MARGIN = 0.9;

/** The choice the samples support, if any: steady runs when both modes have `steadyNeeded`, else first runs. */
export function decide(samples: RunSample[], machine: string, steadyNeeded = STEADY_SAMPLES): ModeChoice | undefined {
  const pick = (msPerRow: Record<RunMode, number>): RunMode => (msPerRow.workers < WORKERS_MARGIN * msPerRow.session ? 'workers' : 'session');
  const best = (mode: RunMode, first: boolean) => {
    const ms = samples.filter((s) => s.mode === mode && s.first === first).map((s) => s.msPerRow);
    return ms.length === 0 ? undefined : { min: Math.min(...ms), count: ms.length };
  };
  const steadyS = best('session', false);
  const steadyW = best('workers', false);
  if (steadyS && steadyW && steadyS.count >= steadyNeeded && steadyW.count >= steadyNeeded) {
    const msPerRow = { session: steadyS.min, workers: steadyW.min };
    return { mode: pick(msPerRow), basis: 'steady runs', msPerRow, machine };
  }
  const firstS = best('session', true);
  const firstW = best('workers', true);
  if (firstS && firstW) {
    const msPerRow = { session: firstS.min, workers: firstW.min };
    return { mode: pick(msPerRow), basis: 'first runs', msPerRow, machine };
  }
  return undefined;
}

/**
 * A compiled graph's runs, on one session with every thread or on worker sessions of one thread
 * each (data parallelism over the batch), whichever measured faster for this graph on this
 * machine. Without a stored choice it measures on the work itself: its first run is split in
 * two halves, one per mode (a choice from first runs, stored at once, so a one-run job decides
 * too); later runs of the same process run the one session, then the workers, each until it has
 * STEADY_SAMPLES steady runs (runs after one of their own mode), and the steady choice replaces
 * the first one. A job of many runs too small to split (MIN_RUNS_TO_MEASURE_WHOLE) measures on
 * whole runs, in alternating blocks per mode, until each has WHOLE_RUN_SAMPLES steady runs.
 * Rows are independent, so both modes give every row the same result.
 */
export class ParallelSession {
  private choice: ModeChoice | undefined;
  private measuring: boolean;
  private readonly samples: RunSample[] = [];
  private readonly ran = new Set<RunMode>();

  constructor(
    private readonly opts: {
      /** The one session with every thread (a cache lookup: opened when first used). */
      session: () => Promise<OnnxSession>;
      /** The worker sessions (a cache lookup: opened when first used). */
      pool: () => Promise<WorkerSessionPool>;
      workers: number;
      /** Where the choice is kept between processes; null: nothing kept. */
      store: ChoiceStore | null;
      /** 'session' or 'workers' forces a mode; 'measure' (the default) uses the stored choice or measures one. */
      mode?: RunMode | 'measure';
      machine?: string;
      /** The clock runs are timed with (tests give a fake one). */
      now?: () => number;
      /** The batch the graph fixes, if any: it runs on one session, exactly that many rows at a time. */
      fixedBatch?: number;
    },
  ) {
    const machine = opts.machine ?? machineFingerprint();
    const forced = opts.workers < 2 || opts.fixedBatch !== undefined ? 'session' : opts.mode !== 'measure' ? opts.mode : undefined;
    this.choice = forced ? { mode: forced, basis: 'steady runs', msPerRow: { session: NaN, workers: NaN }, machine } : opts.store?.load(machine);
    this.measuring = this.choice === undefined;
  }

  get fixedBatch(): number | undefined {
    return this.opts.fixedBatch;
  }

  /** The mode in use (a stored or measured choice), or undefined while there is none yet. */
  get mode(): RunMode | undefined {
    return this.choice?.mode;
  }

  /** How long opening each mode took in this process (what a one-run job pays besides its run). */
  private readonly openMs: Partial<Record<RunMode, number>> = {};
  /** Each mode's runner once open, so that a run starts in its caller's tick (see `dispatch`). */
  private readonly runners: { session?: OnnxSession; workers?: WorkerSessionPool } = {};

  private clock(): number {
    return this.opts.now ? this.opts.now() : performance.now();
  }

  private async opened<T>(mode: RunMode, open: () => Promise<T>): Promise<T> {
    if (this.openMs[mode] !== undefined) return open();
    const started = this.clock();
    const runner = await open();
    this.openMs[mode] ??= this.clock() - started;
    return runner;
  }

  private async session(): Promise<OnnxSession> {
    return (this.runners.session = await this.opened('session', this.opts.session));
  }

  private async workers(): Promise<WorkerSessionPool> {
    return (this.runners.workers = await this.opened('workers', this.opts.pool));
  }

  /** `mode`'s runner if it is open; one the caches released since (least recently used) must be looked up again. */
  private openRunner(mode: RunMode): OnnxSession | WorkerSessionPool | undefined {
    const runner = this.runners[mode];
    return runner && !runner.isDisposed ? runner : undefined;
  }

  /**
   * Starts a run on `mode`'s runner. Once that runner is open the run starts before this returns,
   * with no await in between: the worker threads then compute while the caller prepares the next
   * run's rows and folds in the last one's outputs (the row runner pipelines so).
   */
  private dispatch(mode: RunMode, feeds: Record<string, Tensor>): Promise<Record<string, Tensor>> {
    const open = this.openRunner(mode);
    if (open) return open.run(feeds);
    return mode === 'workers' ? this.workers().then((w) => w.run(feeds)) : this.session().then((s) => s.run(feeds));
  }

  /** Opens what the first run will use (so a graph onnxruntime refuses fails here, before any run). */
  async open(): Promise<void> {
    if (this.choice?.mode === 'workers') await this.workers();
    else await this.session();
  }

  /** Whole runs measured so far (they alternate between the modes in blocks). */
  private wholeRuns = 0;

  /** The mode of the last timed run: a steady sample must follow a run of its own mode. */
  private last: RunMode | undefined;

  private async timed(mode: RunMode, feeds: Record<string, Tensor>, rows: number): Promise<Record<string, Tensor>> {
    if (!this.openRunner(mode)) await (mode === 'workers' ? this.workers() : this.session());
    // From the start of the run to its result as the caller receives it, after the caller's own
    // work in between (the next run's rows, the last run's outputs): on the one session that work
    // comes before the run (onnxruntime-node runs it on this thread once the caller yields), on
    // the workers it overlaps the run, and a mode is worth what the job pays per row.
    const started = this.clock();
    const out = await this.dispatch(mode, feeds);
    const first = !this.ran.has(mode);
    // A first run is charged with opening its mode too: a one-run job pays both. A later run
    // right after the other mode is not a sample: onnxruntime's pool threads spin on after a
    // session run and slowed the worker run after it (efficientnet_b0's IG measured the workers
    // 15% slower alternating, while a whole process on them was 15–20% faster).
    const ms = this.clock() - started + (first ? (this.openMs[mode] ?? 0) : 0);
    if (first || this.last === mode) this.samples.push({ mode, msPerRow: ms / rows, first });
    this.ran.add(mode);
    this.last = mode;
    return out;
  }

  async run(feeds: Record<string, Tensor>, options: RunOptions = {}): Promise<Record<string, Tensor>> {
    const rows = Object.values(feeds)[0].shape[0];
    if (options.allowWorkers === false || rows < this.opts.workers) return this.dispatch('session', feeds);
    if (!this.measuring) return this.dispatch(this.choice!.mode, feeds);

    // A run too small to give each worker MIN_ROWS_PER_WORKER rows of a half is not split: in a
    // job of many runs, whole runs alternate between the modes (each worker gets half a run);
    // otherwise one session, nothing measured (a job of a few rows is never worth a pool).
    const splittable = rows >= 2 * MIN_ROWS_PER_WORKER * this.opts.workers;
    const measureWhole = !splittable && (options.runsInJob ?? 1) >= MIN_RUNS_TO_MEASURE_WHOLE && rows >= MIN_ROWS_PER_WORKER * this.opts.workers;
    if (!splittable && !measureWhole) return this.dispatch('session', feeds);
    let out: Record<string, Tensor>;
    if (this.ran.size === 0 && splittable) {
      // Nothing measured yet: half of this run on each mode, both first runs, so even a job of
      // one run leaves a choice.
      const half = Math.floor(rows / 2);
      // Opened one after the other, so that each is timed alone.
      await this.session();
      await this.workers();
      const a = await this.timed('session', sliceFeeds(feeds, 0, half, rows), half);
      const b = await this.timed('workers', sliceFeeds(feeds, half, rows, rows), rows - half);
      out = concatRows(a, b);
    } else if (measureWhole) {
      // Whole runs in alternating blocks per mode, so that each mode's samples come from two
      // stretches of time and a burst of load on the machine cannot decide alone.
      const mode: RunMode = Math.floor(this.wholeRuns++ / WHOLE_RUN_BLOCK) % 2 === 0 ? 'session' : 'workers';
      out = await this.timed(mode, feeds, rows);
    } else {
      // The one session's runs first, then the workers', each in one block.
      const steady = (mode: RunMode) => this.samples.filter((s) => s.mode === mode && !s.first).length;
      const mode: RunMode = steady('session') < STEADY_SAMPLES ? 'session' : 'workers';
      out = await this.timed(mode, feeds, rows);
    }
    const choice = decide(this.samples, this.choice?.machine ?? this.opts.machine ?? machineFingerprint(), measureWhole ? WHOLE_RUN_SAMPLES : STEADY_SAMPLES);
    if (choice && (choice.basis === 'steady runs' || !this.choice)) {
      this.choice = choice;
      this.opts.store?.save(choice);
      if (process.env[PARALLEL_LOG_ENV]) {
        const f = (m: RunMode) => choice.msPerRow[m].toFixed(3);
        process.stderr.write(`blameboard: run mode ${choice.mode} from ${choice.basis} (ms per row: one session ${f('session')}, workers ${f('workers')})\n`);
      }
      if (choice.basis === 'steady runs') this.measuring = false;
    }
    return out;
  }

}

function sliceFeeds(feeds: Record<string, Tensor>, start: number, end: number, rows: number): Record<string, Tensor> {
  const out: Record<string, Tensor> = {};
  for (const [name, t] of Object.entries(feeds)) {
    const per = t.data.length / rows;
    out[name] = { dtype: t.dtype, shape: [end - start, ...t.shape.slice(1)], data: t.data.subarray(start * per, end * per) as Tensor['data'] };
  }
  return out;
}

function concatRows(a: Record<string, Tensor>, b: Record<string, Tensor>): Record<string, Tensor> {
  const out: Record<string, Tensor> = {};
  for (const name of Object.keys(a)) {
    const x = a[name];
    const y = b[name];
    const Ctor = x.data.constructor as new (n: number) => Tensor['data'];
    const data = new Ctor(x.data.length + y.data.length);
    (data as Float32Array).set(x.data as Float32Array);
    (data as Float32Array).set(y.data as Float32Array, x.data.length);
    out[name] = { dtype: x.dtype, shape: [x.shape[0] + y.shape[0], ...x.shape.slice(1)], data };
  }
  return out;
}
