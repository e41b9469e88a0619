import { describe, expect, it } from 'vitest';
import { float32, type Tensor } from '../tensor.js';
import { decide, MIN_RUNS_TO_MEASURE_WHOLE, ParallelSession, type ChoiceStore, type ModeChoice, type RunSample } from './parallel.js';
import type { OnnxSession } from './session.js';
import type { WorkerSessionPool } from './worker-pool.js';

/** A fake clock: runners advance it by the time they say they took. */
const clock = { t: 0, now: () => clock.t };

/** A runner that doubles its rows and takes `msPerRow` per row on the fake clock, recording the rows it saw. */
function fakeRunner(msPerRow: number, seen: number[]) {
  return {
    fixedBatch: undefined,
    async run(feeds: Record<string, Tensor>) {
      const x = feeds.x;
      seen.push(x.shape[0]);
      clock.t += msPerRow * x.shape[0];
      return { y: { dtype: 'float32' as const, shape: x.shape, data: (x.data as Float32Array).map((v) => 2 * v) } };
    },
  };
}

function memoryStore(initial?: ModeChoice): ChoiceStore & { saved: ModeChoice[] } {
  const saved: ModeChoice[] = [];
  return {
    saved,
    load: (machine) => (initial && initial.machine === machine ? initial : undefined),
    save: (c) => void saved.push(c),
  };
}

function parallel(sessionMs: number, workerMs: number, store: ChoiceStore | null, mode?: 'session' | 'workers' | 'measure', poolOpenMs = 0) {
  const seen = { session: [] as number[], workers: [] as number[] };
  const opened = { session: 0, workers: 0 };
  const s = fakeRunner(sessionMs, seen.session);
  const w = fakeRunner(workerMs, seen.workers);
  const p = new ParallelSession({
    session: async () => (opened.session++, s as unknown as OnnxSession),
    pool: async () => {
      if (opened.workers++ === 0) clock.t += poolOpenMs;
      return w as unknown as WorkerSessionPool;
    },
    workers: 2,
    store,
    mode,
    machine: 'test machine',
    now: clock.now,
  });
  return { p, seen, opened };
}

const rows = (n: number) => ({ x: float32([n, 3], Float32Array.from({ length: 3 * n }, (_, i) => i)) });

describe('decide', () => {
  const sample = (mode: 'session' | 'workers', msPerRow: number, first: boolean): RunSample => ({ mode, msPerRow, first });
  it('needs both modes; prefers steady runs once each has two, else first runs', () => {
    expect(decide([sample('session', 5, true)], 'm')).toBeUndefined();
    expect(decide([sample('session', 5, true), sample('workers', 3, true)], 'm')).toMatchObject({ mode: 'workers', basis: 'first runs', msPerRow: { session: 5, workers: 3 } });
    const steady = [sample('session', 5, true), sample('workers', 3, true), sample('session', 2, false), sample('workers', 4, false), sample('session', 2.5, false), sample('workers', 3.5, false)];
    expect(decide(steady, 'm')).toMatchObject({ mode: 'session', basis: 'steady runs', msPerRow: { session: 2, workers: 3.5 }, machine: 'm' });
  });

  it('keeps the one session unless the workers are clearly faster (they cost a copy of the weights each)', () => {
    expect(decide([sample('session', 10, true), sample('workers', 9.5, true)], 'm')!.mode).toBe('session');
    expect(decide([sample('session', 10, true), sample('workers', 8, true)], 'm')!.mode).toBe('workers');
  });
});

describe('ParallelSession', () => {
  it('measures on the work itself: the first run split between the modes, results in row order, the choice stored', async () => {
    const store = memoryStore();
    const { p, seen } = parallel(0.4, 0.1, store);
    expect(p.mode).toBeUndefined();
    const out = await p.run(rows(16));
    expect(seen).toEqual({ session: [8], workers: [8] });
    expect(Array.from(out.y.data as Float32Array)).toEqual(Array.from({ length: 48 }, (_, i) => 2 * i));
    expect(p.mode).toBe('workers');
    expect(store.saved).toHaveLength(1);
    expect(store.saved[0]).toMatchObject({ mode: 'workers', basis: 'first runs', machine: 'test machine' });
    // Later runs: the session's block, then the workers', until each has two steady runs (runs
    // after one of their own mode: the first of each block is not a sample); the steady choice
    // is stored.
    for (let i = 0; i < 6; i++) await p.run(rows(16));
    expect(seen.session).toEqual([8, 16, 16, 16]);
    expect(seen.workers).toEqual([8, 16, 16, 16]);
    expect(store.saved.at(-1)).toMatchObject({ mode: 'workers', basis: 'steady runs' });
    await p.run(rows(16));
    expect(seen.workers).toEqual([8, 16, 16, 16, 16]);
  });

  it('charges a first run with opening its mode: faster workers that take long to open lose a one-run job', async () => {
    const store = memoryStore();
    const { p } = parallel(1, 0.5, store, 'measure', 20); // 8 rows: session 8 ms; workers 4 ms + 20 ms to open
    await p.run(rows(16));
    expect(store.saved[0]).toMatchObject({ mode: 'session', basis: 'first runs', msPerRow: { session: 1, workers: 3 } });
    // Steady runs (opening paid) then show the workers faster.
    for (let i = 0; i < 6; i++) await p.run(rows(16));
    expect(store.saved.at(-1)).toMatchObject({ mode: 'workers', basis: 'steady runs' });
  });

  it('uses a stored choice without measuring, and opens only what it uses', async () => {
    const store = memoryStore({ mode: 'workers', basis: 'first runs', msPerRow: { session: 2, workers: 1 }, machine: 'test machine' });
    const { p, seen, opened } = parallel(0.01, 0.01, store);
    await p.open();
    expect(opened).toEqual({ session: 0, workers: 1 });
    await p.run(rows(16));
    await p.run(rows(16));
    expect(seen).toEqual({ session: [], workers: [16, 16] });
    expect(store.saved).toHaveLength(0);
  });

  it('a choice stored for another machine does not count', async () => {
    const store = memoryStore({ mode: 'workers', basis: 'steady runs', msPerRow: { session: 2, workers: 1 }, machine: 'another machine' });
    const { p } = parallel(0.01, 0.01, store);
    expect(p.mode).toBeUndefined();
  });

  it('a job of many runs too small to split measures whole runs, a block per mode, and keeps the faster mode', async () => {
    const store = memoryStore();
    const { p, seen, opened } = parallel(0.4, 0.1, store);
    const order: string[] = [];
    for (let i = 0; i < 12; i++) {
      const before = seen.workers.length;
      const out = await p.run(rows(4), { runsInJob: 128 });
      order.push(seen.workers.length > before ? 'W' : 'S');
      expect(Array.from(out.y.data as Float32Array)).toEqual(Array.from({ length: 12 }, (_, k) => 2 * k));
      if (i < 11) expect(store.saved.at(-1)?.basis, `final after run ${i}?`).not.toBe('steady runs');
    }
    // Two blocks per mode, alternating: each mode's samples come from two stretches of time.
    expect(order.join('')).toBe('SSSWWWSSSWWW');
    expect(store.saved.at(-1)).toMatchObject({ mode: 'workers', basis: 'steady runs' });
    await p.run(rows(4), { runsInJob: 128 });
    expect(seen.workers).toHaveLength(7);
    expect(opened.workers).toBeGreaterThan(0);
  });

  it("does not time a run right after the other mode (the session's threads still spin then)", async () => {
    // Workers take 0.1 ms per row, but 0.6 right after a session run.
    let last = '';
    const seen: string[] = [];
    const runner = (name: string, ms: (after: string) => number) => ({
      fixedBatch: undefined,
      async run(feeds: Record<string, Tensor>) {
        clock.t += ms(last) * feeds.x.shape[0];
        last = name;
        seen.push(name);
        return { y: feeds.x };
      },
    });
    const s = runner('session', () => 0.3);
    const w = runner('workers', (after) => (after === 'session' ? 0.6 : 0.1));
    const store = memoryStore();
    const p = new ParallelSession({
      session: async () => s as unknown as OnnxSession,
      pool: async () => w as unknown as WorkerSessionPool,
      workers: 2,
      store,
      machine: 'test machine',
      now: clock.now,
    });
    for (let i = 0; i < 12; i++) await p.run(rows(4), { runsInJob: 64 });
    expect(seen).toEqual(['session', 'session', 'session', 'workers', 'workers', 'workers', 'session', 'session', 'session', 'workers', 'workers', 'workers']);
    const choice = store.saved.at(-1)!;
    expect(choice).toMatchObject({ mode: 'workers', basis: 'steady runs' });
    expect(choice.msPerRow.session).toBeCloseTo(0.3, 9);
    expect(choice.msPerRow.workers).toBeCloseTo(0.1, 9);
  });

  it('once a mode is open, a run starts in its caller\'s tick, and what the caller does before awaiting counts in the samples', async () => {
    // Each mode takes 0.1 ms per row itself; the caller spends 1 ms between starting a run and
    // awaiting it (the next run's rows). On the one session that work comes first (onnxruntime-node
    // runs the session when the caller yields); on the workers it overlaps the run.
    const started: string[] = [];
    const runner = (name: 'session' | 'workers') => ({
      fixedBatch: undefined,
      run(feeds: Record<string, Tensor>) {
        started.push(name);
        const begin = clock.t;
        return new Promise<Record<string, Tensor>>((resolve) =>
          setImmediate(() => {
            if (name === 'session') clock.t += 0.4; // runs after the caller's work
            else clock.t = Math.max(clock.t, begin + 0.4); // ran alongside it
            resolve({ y: feeds.x });
          }),
        );
      },
    });
    const store = memoryStore();
    const p = new ParallelSession({
      session: async () => runner('session') as unknown as OnnxSession,
      pool: async () => runner('workers') as unknown as WorkerSessionPool,
      workers: 2,
      store,
      machine: 'test machine',
      now: clock.now,
    });
    for (let i = 0; i < 12; i++) {
      const before = started.length;
      const run = p.run(rows(4), { runsInJob: 64 });
      if (i > 0 && i !== 3) expect(started.length, `run ${i} started at once`).toBe(before + 1);
      clock.t += 1; // the caller's work while the run is in flight
      await run;
    }
    const choice = store.saved.at(-1)!;
    expect(choice).toMatchObject({ mode: 'workers', basis: 'steady runs' });
    expect(choice.msPerRow.session).toBeCloseTo(1.4 / 4, 9);
    expect(choice.msPerRow.workers).toBeCloseTo(1 / 4, 9);
  });

  it('looks a runner up again once the caches released it (least recently used)', async () => {
    const opened: { isDisposed: boolean; runs: number }[] = [];
    const p = new ParallelSession({
      session: async () => {
        const r = { isDisposed: false, runs: 0, fixedBatch: undefined, run: async (feeds: Record<string, Tensor>) => (r.runs++, { y: feeds.x }) };
        opened.push(r);
        return r as unknown as OnnxSession;
      },
      pool: async () => {
        throw new Error('no pool: one session forced');
      },
      workers: 2,
      store: null,
      mode: 'session',
    });
    await p.run(rows(2));
    await p.run(rows(2));
    expect(opened.map((r) => r.runs)).toEqual([2]);
    opened[0].isDisposed = true;
    await p.run(rows(2));
    expect(opened.map((r) => r.runs)).toEqual([2, 1]);
  });

  it('a job of a few small runs never opens the workers', async () => {
    const { p, seen, opened } = parallel(0.4, 0.1, memoryStore());
    for (let i = 0; i < 4; i++) await p.run(rows(4), { runsInJob: MIN_RUNS_TO_MEASURE_WHOLE - 1 });
    await p.run(rows(3), { runsInJob: 128 }); // fewer than 2 rows per worker
    expect(seen).toEqual({ session: [4, 4, 4, 4, 3], workers: [] });
    expect(opened.workers).toBe(0);
    expect(p.mode).toBeUndefined();
  });

  it('runs on the one session, measuring nothing, when the workers do not fit the memory budget or rows are too few to split', async () => {
    const { p, seen } = parallel(0.01, 0.01, memoryStore());
    await p.run(rows(16), { allowWorkers: false });
    await p.run(rows(1));
    await p.run(rows(7));
    expect(seen).toEqual({ session: [16, 1, 7], workers: [] });
    expect(p.mode).toBeUndefined();
  });

  it('a forced mode is used as is; one worker thread, or a fixed batch, means one session', async () => {
    const forced = parallel(0.01, 0.01, memoryStore(), 'workers');
    await forced.p.run(rows(8));
    expect(forced.seen).toEqual({ session: [], workers: [8] });
    const one = new ParallelSession({
      session: async () => fakeRunner(0, []) as unknown as OnnxSession,
      pool: async () => {
        throw new Error('no pool with one thread');
      },
      workers: 1,
      store: memoryStore(),
    });
    expect(one.mode).toBe('session');
    expect((await one.run(rows(16))).y.shape).toEqual([16, 3]);
    // A graph with a fixed batch runs on one session too, and says its batch to the row runner.
    const fixed = new ParallelSession({
      session: async () => fakeRunner(0, []) as unknown as OnnxSession,
      pool: async () => {
        throw new Error('no pool for a fixed batch');
      },
      workers: 2,
      store: memoryStore(),
      fixedBatch: 4,
    });
    expect(fixed.mode).toBe('session');
    expect(fixed.fixedBatch).toBe(4);
    expect((await fixed.run(rows(4))).y.shape).toEqual([4, 3]);
  });
});
