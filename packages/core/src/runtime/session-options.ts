import os from 'node:os';
import type ort from 'onnxruntime-node';

/** Threads inside one operator by default: BLAMEBOARD_THREADS, else os.availableParallelism(). */
export function defaultThreads(): number {
  const env = Number(process.env.BLAMEBOARD_THREADS);
  return Number.isInteger(env) && env > 0 ? env : os.availableParallelism();
}

/** The options of every onnxruntime session Blameboard opens (one place, shared with the worker sessions). */
export function sessionOptions(intraOpNumThreads: number = defaultThreads()): ort.InferenceSession.SessionOptions {
  return {
    intraOpNumThreads,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: 'all',
    // Errors reach the user as one typed line; onnxruntime's own multi-line log (and its
    // warnings about constants a compiled graph leaves unused) would only bury it.
    logSeverityLevel: 4,
    // Memory patterns pre-plan one block per input shape on top of the arena the first run
    // already grew: about twice the peak memory per row (efficientnet_b0's gradient 172 vs
    // 88 MB/row) for no measurable speed (docs/decisions.md, "Memory budget").
    enableMemPattern: false,
  };
}
