import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import { ModelLoadError, ModelRunError } from '../errors.js';
import type { DType, Tensor, TypedArray } from '../tensor.js';
import { sessionOptions } from './session-options.js';
import { disableOnnxruntimeTelemetry } from './telemetry.js';

/**
 * The worker's code, evaluated as CommonJS in each thread (no file to locate next to the build or
 * the sources). It opens its own onnxruntime session and runs whatever rows it is sent: inputs
 * arrive as transferred ArrayBuffers, outputs leave the same way, and the input buffers go back
 * for reuse, so nothing is serialised or copied on the way but the one slice copy into them.
 */
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const ort = require(workerData.ort);
let session;
parentPort.on('message', async (m) => {
  if (m.type === 'open') {
    try {
      session = await ort.InferenceSession.create(m.source, m.options);
      parentPort.postMessage({ type: 'opened', inputNames: [...session.inputNames], outputNames: [...session.outputNames] });
    } catch (e) {
      parentPort.postMessage({ type: 'failed', message: String(e && e.message || e) });
    }
    return;
  }
  const transfer = [];
  try {
    const feeds = {};
    for (const [name, f] of Object.entries(m.feeds)) feeds[name] = new ort.Tensor(f.dtype, f.data, f.shape);
    const results = await session.run(feeds);
    const outputs = {};
    for (const name of session.outputNames) {
      const t = results[name];
      let data = t.data;
      if (data.byteOffset !== 0 || data.byteLength !== data.buffer.byteLength) data = data.slice();
      outputs[name] = { dtype: t.type, shape: t.dims, data };
      transfer.push(data.buffer);
    }
    for (const f of Object.values(m.feeds)) transfer.push(f.data.buffer);
    parentPort.postMessage({ type: 'ran', id: m.id, outputs, feeds: m.feeds }, transfer);
  } catch (e) {
    parentPort.postMessage({ type: 'error', id: m.id, message: String(e && e.message || e), feeds: m.feeds });
  }
});
`;

interface WireTensor {
  dtype: DType;
  shape: number[];
  data: TypedArray;
}

type Reply =
  | { type: 'opened'; inputNames: string[]; outputNames: string[] }
  | { type: 'failed'; message: string }
  | { type: 'ran'; id: number; outputs: Record<string, WireTensor>; feeds: Record<string, WireTensor> }
  | { type: 'error'; id: number; message: string; feeds: Record<string, WireTensor> };

/** One worker thread with its session, its reusable input buffers and its runs in flight. */
class SessionWorker {
  private readonly pending = new Map<number, { resolve: (o: Record<string, Tensor>) => void; reject: (e: Error) => void }>();
  private readonly buffers = new Map<string, ArrayBuffer>();
  private nextId = 0;
  private dead: Error | null = null;

  constructor(readonly worker: Worker) {
    worker.unref();
    worker.on('message', (m: Reply) => this.receive(m));
    worker.on('error', (e) => this.fail(e instanceof Error ? e : new Error(String(e))));
    worker.on('exit', (code) => this.fail(new Error(`onnxruntime worker exited (code ${code})`)));
  }

  private fail(e: Error): void {
    this.dead ??= e;
    for (const p of this.pending.values()) p.reject(new ModelRunError(`onnxruntime failed to run the model: ${e.message.split('\n')[0]}`, { cause: e }));
    this.pending.clear();
    this.worker.unref();
  }

  private receive(m: Reply): void {
    if (m.type !== 'ran' && m.type !== 'error') return;
    for (const [name, f] of Object.entries(m.feeds)) this.buffers.set(name, f.data.buffer as ArrayBuffer);
    const p = this.pending.get(m.id);
    this.pending.delete(m.id);
    if (this.pending.size === 0) this.worker.unref();
    if (!p) return;
    if (m.type === 'error') {
      p.reject(new ModelRunError(`onnxruntime failed to run the model: ${m.message.split('\n')[0]}`));
      return;
    }
    const out: Record<string, Tensor> = {};
    for (const [name, t] of Object.entries(m.outputs)) out[name] = { dtype: t.dtype, shape: t.shape.map(Number), data: t.data };
    p.resolve(out);
  }

  /** Copies rows [start, end) of every feed into this worker's own buffers and runs them there. */
  run(feeds: Record<string, Tensor>, start: number, end: number, rows: number): Promise<Record<string, Tensor>> {
    if (this.dead) return Promise.reject(new ModelRunError(`onnxruntime failed to run the model: ${this.dead.message.split('\n')[0]}`));
    const wire: Record<string, WireTensor> = {};
    const transfer: ArrayBuffer[] = [];
    for (const [name, t] of Object.entries(feeds)) {
      const per = t.data.length / rows;
      const Ctor = t.data.constructor as { new (b: ArrayBuffer, o: number, n: number): TypedArray; BYTES_PER_ELEMENT: number };
      const length = (end - start) * per;
      let buffer = this.buffers.get(name);
      this.buffers.delete(name);
      if (!buffer || buffer.byteLength !== length * Ctor.BYTES_PER_ELEMENT) buffer = new ArrayBuffer(length * Ctor.BYTES_PER_ELEMENT);
      const data = new Ctor(buffer, 0, length);
      (data as Float32Array).set(t.data.subarray(start * per, end * per) as Float32Array);
      wire[name] = { dtype: t.dtype, shape: [end - start, ...t.shape.slice(1)], data };
      transfer.push(buffer);
    }
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.worker.ref();
      this.worker.postMessage({ type: 'run', id, feeds: wire }, transfer);
    });
  }
}

/**
 * A graph run by `workers` threads at once, each with its own onnxruntime session limited to one
 * intra-op thread, every run's rows split between them in consecutive blocks (data parallelism
 * over the batch). onnxruntime-node runs a session synchronously on its thread, so one session
 * can use several cores only inside the kernels it parallelises itself; here every kernel,
 * the single-threaded ones included (Col2Im, MaxUnpool, Where, …), runs on every core.
 * Rows are independent, so each row's result is what one session gives it.
 */
export class WorkerSessionPool {
  private disposed: Promise<void> | null = null;
  private readonly inFlight = new Set<Promise<unknown>>();

  private constructor(
    private readonly workers: SessionWorker[],
    readonly inputNames: string[],
    readonly outputNames: string[],
  ) {}

  /** Opens `count` worker sessions on a graph: ONNX bytes (copied to each worker) or a file path. */
  static async create(source: Uint8Array | string, count: number): Promise<WorkerSessionPool> {
    disableOnnxruntimeTelemetry();
    const ortPath = createRequire(import.meta.url).resolve('onnxruntime-node');
    const options = sessionOptions(1);
    const opened = await Promise.allSettled(
      Array.from({ length: count }, async () => {
        const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { ort: ortPath } });
        const reply = await new Promise<Reply>((resolve, reject) => {
          worker.once('message', resolve);
          worker.once('error', reject);
          worker.postMessage({ type: 'open', source, options });
        });
        if (reply.type !== 'opened') {
          await worker.terminate();
          throw new ModelLoadError(`onnxruntime cannot load the model: ${reply.type === 'failed' ? reply.message.split('\n')[0] : 'no reply'}`);
        }
        return { worker: new SessionWorker(worker), names: reply };
      }),
    );
    const failed = opened.find((o) => o.status === 'rejected');
    if (failed) {
      await Promise.all(opened.map((o) => (o.status === 'fulfilled' ? o.value.worker.worker.terminate() : undefined)));
      throw failed.reason;
    }
    const ok = opened.map((o) => (o as PromiseFulfilledResult<{ worker: SessionWorker; names: { inputNames: string[]; outputNames: string[] } }>).value);
    return new WorkerSessionPool(
      ok.map((o) => o.worker),
      ok[0].names.inputNames,
      ok[0].names.outputNames,
    );
  }

  get size(): number {
    return this.workers.length;
  }

  /** Whether dispose() was called (the pool cache releases pools beyond its size). */
  get isDisposed(): boolean {
    return this.disposed !== null;
  }

  /** Compiled graphs take any batch (a fixed-batch model runs on one session, never here). */
  get fixedBatch(): undefined {
    return undefined;
  }

  async run(feeds: Record<string, Tensor>): Promise<Record<string, Tensor>> {
    if (this.disposed) throw new Error('WorkerSessionPool.run after dispose');
    const rows = Object.values(feeds)[0].shape[0];
    const used = Math.max(1, Math.min(this.workers.length, rows));
    const bounds = Array.from({ length: used + 1 }, (_, k) => Math.floor((k * rows) / used));
    const running = Promise.all(Array.from({ length: used }, (_, k) => this.workers[k].run(feeds, bounds[k], bounds[k + 1], rows)));
    this.inFlight.add(running);
    let parts: Record<string, Tensor>[];
    try {
      parts = await running;
    } finally {
      this.inFlight.delete(running);
    }
    if (parts.length === 1) return parts[0];
    const out: Record<string, Tensor> = {};
    for (const name of this.outputNames) {
      const pieces = parts.map((p) => p[name]);
      // Every output of a graph run here has the batch axis first (compiled graphs do).
      pieces.forEach((p, k) => {
        if (p.shape[0] !== bounds[k + 1] - bounds[k]) throw new ModelRunError(`output '${name}' has no batch axis; the graph cannot be split over rows`);
      });
      const total = pieces.reduce((n, p) => n + p.data.length, 0);
      const Ctor = pieces[0].data.constructor as new (n: number) => TypedArray;
      const data = new Ctor(total);
      let at = 0;
      for (const p of pieces) {
        (data as Float32Array).set(p.data as Float32Array, at);
        at += p.data.length;
      }
      out[name] = { dtype: pieces[0].dtype, shape: [rows, ...pieces[0].shape.slice(1)], data };
    }
    return out;
  }

  /** Ends the threads once the runs in flight have finished. */
  dispose(): Promise<void> {
    this.disposed ??= Promise.allSettled([...this.inFlight])
      .then(() => Promise.all(this.workers.map((w) => w.worker.terminate())))
      .then(() => undefined);
    return this.disposed;
  }
}

/** Most worker pools a process keeps open (each holds a copy of its graph per thread); the least recently used is closed beyond that. */
export const MAX_CACHED_POOLS = 4;
const pools = new Map<string, Promise<WorkerSessionPool>>();

/** The worker pool for `key` (the same key as its graph's cachedSession), opened once from `build()`. */
export function cachedPool(key: string, build: () => Uint8Array | string, workers: number): Promise<WorkerSessionPool> {
  const hit = pools.get(key);
  if (hit) {
    pools.delete(key);
    pools.set(key, hit);
    return hit;
  }
  const pool = (async () => WorkerSessionPool.create(build(), workers))();
  pools.set(key, pool);
  pool.catch(() => {
    if (pools.get(key) === pool) pools.delete(key);
  });
  while (pools.size > MAX_CACHED_POOLS) {
    const [oldest, entry] = pools.entries().next().value as [string, Promise<WorkerSessionPool>];
    pools.delete(oldest);
    void entry.then((p) => p.dispose(), () => undefined);
  }
  return pool;
}

/** Closes every cached pool (disposeSessions calls this). */
export async function disposePools(): Promise<void> {
  const entries = [...pools.values()];
  pools.clear();
  await Promise.all(entries.map((e) => e.then((p) => p.dispose(), () => undefined)));
}
