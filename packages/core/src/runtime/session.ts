import ort from 'onnxruntime-node';
import { BlameboardError, ModelLoadError, ModelRunError } from '../errors.js';
import type { Tensor } from '../tensor.js';
import { fromOrt, toOrt } from './convert.js';
import { defaultThreads, sessionOptions } from './session-options.js';
import { disableOnnxruntimeTelemetry } from './telemetry.js';
import { disposePools } from './worker-pool.js';

export { defaultThreads } from './session-options.js';

export interface SessionOptions {
  /** Threads inside one operator; default os.availableParallelism() (or BLAMEBOARD_THREADS). */
  intraOpNumThreads?: number;
}

/**
 * One onnxruntime session. `dispose` releases the native session once the runs in flight have
 * finished, so a cache eviction never pulls a session out from under a caller.
 */
export class OnnxSession {
  private running = 0;
  private disposed = false;
  private released: Promise<void> | null = null;
  private idle: (() => void) | null = null;

  private constructor(
    private readonly session: ort.InferenceSession,
    readonly inputNames: string[],
    readonly outputNames: string[],
  ) {}

  /** From ONNX bytes, or a file path (onnxruntime then reads the file itself: the bytes never sit in JS). */
  static async create(onnx: Uint8Array | string, opts: SessionOptions = {}): Promise<OnnxSession> {
    disableOnnxruntimeTelemetry();
    let session: ort.InferenceSession;
    try {
      const options = sessionOptions(opts.intraOpNumThreads ?? defaultThreads());
      session = typeof onnx === 'string' ? await ort.InferenceSession.create(onnx, options) : await ort.InferenceSession.create(onnx, options);
    } catch (e) {
      throw new ModelLoadError(`onnxruntime cannot load the model: ${firstLine(e)}`, { cause: e });
    }
    return new OnnxSession(session, [...session.inputNames], [...session.outputNames]);
  }

  /** Whether dispose() was called (a cache may release a session its holder still keeps). */
  get isDisposed(): boolean {
    return this.disposed;
  }

  /** Declared batch size of the first input when the model fixes it (e.g. exported with batch 1). */
  get fixedBatch(): number | undefined {
    const meta = this.session.inputMetadata?.[0];
    if (!meta || !meta.isTensor) return undefined;
    const d = meta.shape[0];
    return typeof d === 'number' && d > 0 ? d : undefined;
  }

  /** The first output's shape as onnxruntime infers it from the graph (symbolic dims as strings), when it is a tensor. */
  get outputShape(): readonly (number | string)[] | undefined {
    const meta = this.session.outputMetadata?.[0];
    return meta && meta.isTensor ? meta.shape : undefined;
  }

  async run(feeds: Record<string, Tensor>): Promise<Record<string, Tensor>> {
    if (this.disposed) throw new Error('OnnxSession.run after dispose');
    this.running++;
    try {
      const ortFeeds: Record<string, ort.Tensor> = {};
      for (const [name, t] of Object.entries(feeds)) ortFeeds[name] = toOrt(t);
      let results: ort.InferenceSession.OnnxValueMapType;
      try {
        results = await this.session.run(ortFeeds);
      } catch (e) {
        // Inputs are validated before any run, so what fails here is the model itself (e.g. a
        // Reshape with a batch of 1 hard-coded by its export): the user's problem to see, in one line.
        throw new ModelRunError(`onnxruntime failed to run the model: ${firstLine(e)}`, { cause: e });
      }
      const out: Record<string, Tensor> = {};
      for (const name of this.outputNames) out[name] = fromOrt(results[name] as ort.Tensor);
      return out;
    } finally {
      this.running--;
      if (this.running === 0 && this.idle) this.idle();
    }
  }

  dispose(): Promise<void> {
    if (this.released) return this.released;
    this.disposed = true;
    const waitIdle = this.running === 0 ? Promise.resolve() : new Promise<void>((resolve) => (this.idle = resolve));
    this.released = waitIdle.then(() => this.session.release());
    return this.released;
  }
}

interface CacheEntry {
  session: Promise<OnnxSession>;
  threads: number;
}

/** Most sessions a process keeps open; the least recently used one is released beyond that. */
export const MAX_CACHED_SESSIONS = 32;
const cache = new Map<string, CacheEntry>();

/**
 * The session for `key` (e.g. model sha256 + method configuration), built once from `build()`
 * (ONNX bytes or a file path).
 * Kept in least-recently-used order; evicted sessions are released once idle.
 */
export async function cachedSession(key: string, build: () => Uint8Array | string, opts: SessionOptions = {}): Promise<OnnxSession> {
  const threads = opts.intraOpNumThreads ?? defaultThreads();
  const hit = cache.get(key);
  if (hit && hit.threads === threads) {
    cache.delete(key);
    cache.set(key, hit);
    return hit.session;
  }
  if (hit) {
    cache.delete(key);
    void hit.session.then((s) => s.dispose(), () => undefined);
  }
  const session = (async () => OnnxSession.create(build(), { intraOpNumThreads: threads }))();
  cache.set(key, { session, threads });
  session.catch(() => {
    if (cache.get(key)?.session === session) cache.delete(key);
  });
  while (cache.size > MAX_CACHED_SESSIONS) {
    const [oldest, entry] = cache.entries().next().value as [string, CacheEntry];
    cache.delete(oldest);
    void entry.session.then((s) => s.dispose(), () => undefined);
  }
  return session;
}

/** Releases every cached session (call before exit or between test files). */
export async function disposeSessions(): Promise<void> {
  const entries = [...cache.values()];
  cache.clear();
  await Promise.all([...entries.map((e) => e.session.then((s) => s.dispose(), () => undefined)), disposePools()]);
}

function firstLine(e: unknown): string {
  const msg = e instanceof BlameboardError ? e.message : String(e instanceof Error ? e.message : e);
  return msg.split('\n')[0];
}
