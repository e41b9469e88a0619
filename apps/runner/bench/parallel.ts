/**
 * `pnpm perf` (data parallelism): one compiled graph run both ways in one process, alternately —
 * one onnxruntime session with every thread, and worker sessions of one intra-op thread each over
 * the batch — with the forward pass of the same rows as the unit. What ParallelSession chooses
 * between, measured side by side (fastest and median of `rounds` alternations).
 */
import { cachedPool, cachedSession, compileExplanation, defaultThreads, float32, logitSession, ParallelSession, Rng, writeOnnx, type LoadedModel, type Tensor } from '@blameboard/core';
import { gradientRules, oneHot, requireGraph } from '@blameboard/methods';

export interface ParallelFigure {
  model: string;
  graph: string;
  rows: number;
  forwardMs: number;
  sessionMs: number;
  workersMs: number;
  sessionMedianMs: number;
  workersMedianMs: number;
}

/** Pause before each timed run (see `time`). */
const QUIET_MS = 30;
const median = (t: number[]) => [...t].sort((a, b) => a - b)[t.length >> 1];

/** The model's compiled gradient graph (as `explain` compiles it), both ways. */
export async function parallelAB(id: string, model: LoadedModel, rows: number, rounds: number, log: (line: string) => void): Promise<ParallelFigure[]> {
  const workers = defaultThreads();
  const x: Tensor = float32([rows, ...model.inputShape], new Rng(5).fillUniform(new Float32Array(rows * model.inputShape.reduce((a, b) => a * b, 1))));
  const seed = oneHot(Int32Array.from({ length: rows }, (_, i) => (i * 7) % model.outputSize), model.outputSize);
  const forward = await logitSession(model);
  const forwardFeed = { [forward.inputNames[0]]: x };
  const figures: ParallelFigure[] = [];
  for (const g of [{ name: 'gradient' }]) {
    const compiled = compileExplanation(requireGraph(model, g.name), gradientRules(), { start: 'seed-input' });
    const bytes = writeOnnx(compiled.graph);
    const key = `perf-parallel:${id}:${g.name}`;
    const make = (mode: 'session' | 'workers') =>
      new ParallelSession({ session: () => cachedSession(key, () => bytes), pool: () => cachedPool(key, () => bytes, workers), workers, store: null, mode });
    const one = make('session');
    const pool = make('workers');
    const feeds = { [compiled.inputNames.input]: x, [compiled.inputNames.seed]: seed };
    for (let i = 0; i < 2; i++) {
      await one.run(feeds);
      await pool.run(feeds);
    }
    const t = { forward: [] as number[], session: [] as number[], workers: [] as number[] };
    const time = async (into: number[], run: () => Promise<unknown>) => {
      // onnxruntime's pool threads spin for a while after a run: let the previous runner's go quiet.
      await new Promise((r) => setTimeout(r, QUIET_MS));
      const started = performance.now();
      await run();
      into.push(performance.now() - started);
    };
    for (let r = 0; r < rounds; r++) {
      await time(t.forward, () => forward.run(forwardFeed));
      await time(t.session, () => one.run(feeds));
      await time(t.workers, () => pool.run(feeds));
    }
    const figure: ParallelFigure = {
      model: id,
      graph: g.name,
      rows,
      forwardMs: Math.min(...t.forward),
      sessionMs: Math.min(...t.session),
      workersMs: Math.min(...t.workers),
      sessionMedianMs: median(t.session),
      workersMedianMs: median(t.workers),
    };
    log(`  ${id} ${g.name} @${rows}: one session ${figure.sessionMs.toFixed(1)} ms, ${workers} workers ${figure.workersMs.toFixed(1)} ms (forward ${figure.forwardMs.toFixed(1)} ms)`);
    figures.push(figure);
  }
  return figures;
}

export function printParallel(figures: ParallelFigure[], rounds: number): void {
  console.log(`\ndata parallelism: one session (all threads) against worker sessions (one thread each), fastest of ${rounds} alternations (median in brackets), × the forward pass of the same rows`);
  console.log('model'.padEnd(18) + 'graph'.padEnd(26) + 'rows'.padStart(6) + 'one session'.padStart(22) + 'workers'.padStart(22) + 'workers / session'.padStart(20));
  for (const f of figures) {
    const cell = (ms: number, med: number) => `${ms.toFixed(1)} (${med.toFixed(1)}) ${(ms / f.forwardMs).toFixed(2)}×`;
    console.log(f.model.padEnd(18) + f.graph.padEnd(26) + String(f.rows).padStart(6) + cell(f.sessionMs, f.sessionMedianMs).padStart(22) + cell(f.workersMs, f.workersMedianMs).padStart(22) + (f.workersMs / f.sessionMs).toFixed(2).padStart(20));
  }
}
