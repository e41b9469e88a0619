import { readFileSync } from 'node:fs';
import os from 'node:os';
import { UsageError } from '../errors.js';
import type { IrGraph } from '../ir/types.js';

/** Environment variable holding the memory budget (same syntax as `--memory`). */
export const MEMORY_ENV = 'BLAMEBOARD_MEMORY';

/** Share of the machine's memory (or of the container's limit) a run may use by default. */
export const DEFAULT_MEMORY_SHARE = 0.5;

/** Most rows one onnxruntime run takes by default: beyond this no model got faster per row. */
export const MAX_DEFAULT_BATCH = 256;

/**
 * Activations one run aims at by default (estimated). Time per row is flat from 4 rows up on
 * resnet50 and efficientnet_b0 (gradient, 224×224: 48 and 22 ms/row from 4 to 64 rows), while
 * every larger run only costs memory and the page faults of touching it (efficientnet_b0's
 * IG-8 took 10.6 s at 88 rows per run): so a run stays near 1 GiB, budget permitting.
 */
export const TARGET_RUN_BYTES = 2 ** 30;

/**
 * The most rows a model may fix as its batch. Every run is padded to a fixed batch, so a model
 * exported with 131,072 rows would run 16 samples at 8,192 times the work; exporters write 1 (or
 * a training batch such as 32–256), and a larger one is far more likely a mistake.
 */
export const MAX_FIXED_BATCH = 1024;

/** Fewest rows a run takes by default when the budget allows (1–2 rows ran 20–45% slower per row). */
export const MIN_DEFAULT_BATCH = 4;

/**
 * What a process holds besides the rows in flight and the weights: Node, V8's heap and
 * onnxruntime's code and thread pools (≈ 150–250 MB measured on the 2-core box).
 */
const PROCESS_BYTES = 320 * 2 ** 20;

/**
 * Copies of a graph's weights a run holds at its peak: the model's file bytes and IR tensors in
 * JS, the session's initializers and their prepacked (blocked) form — and for a compiled graph,
 * its bytes twice while they are serialised, then the session's copy. Peaks measured on resnet50
 * and efficientnet_b0 stay below it (docs/decisions.md, "Memory budget").
 */
export const WEIGHT_COPIES = 4;

const UNITS: Record<string, number> = { '': 1, b: 1, k: 2 ** 10, m: 2 ** 20, g: 2 ** 30, t: 2 ** 40 };

/**
 * Parses a memory size: bytes, or a number with a binary unit K/M/G/T (optionally KiB, MB, …:
 * all mean powers of 1024), or a percentage of the machine's memory ("50%").
 */
export function parseMemory(text: string, what = '--memory', min = 2 ** 20): number {
  const s = text.trim();
  const percent = /^(\d+(?:\.\d+)?)\s*%$/.exec(s);
  let bytes: number;
  if (percent) {
    const p = Number(percent[1]);
    if (!(p > 0 && p <= 100)) throw new UsageError(`${what} must be a percentage in (0, 100], got '${text}'`);
    bytes = Math.floor((machineMemory() * p) / 100);
  } else {
    const m = /^(\d+(?:\.\d+)?)\s*([kmgt]?)(?:i?b)?$/i.exec(s);
    if (!m) throw new UsageError(`${what} must be a size such as 4G, 512M or 50%, got '${text}'`);
    bytes = Math.floor(Number(m[1]) * UNITS[m[2].toLowerCase()]);
  }
  if (!Number.isSafeInteger(bytes) || bytes < min) throw new UsageError(`${what} must be at least ${formatBytes(min)}, got '${text}'`);
  return bytes;
}

let machine: number | undefined;

/** Physical memory, or the container's (cgroup) limit when that is lower (read once per process). */
export function machineMemory(): number {
  machine ??= readMachineMemory();
  return machine;
}

function readMachineMemory(): number {
  const total = os.totalmem();
  for (const file of ['/sys/fs/cgroup/memory.max', '/sys/fs/cgroup/memory/memory.limit_in_bytes']) {
    try {
      const limit = Number(readFileSync(file, 'utf8').trim());
      if (Number.isFinite(limit) && limit > 0 && limit < total) return limit;
    } catch {
      // no such cgroup file (not Linux, or another cgroup version)
    }
  }
  return total;
}

/** The memory budget when the caller gives none: `BLAMEBOARD_MEMORY`, else half the machine. */
export function defaultMemoryBudget(): number {
  const env = process.env[MEMORY_ENV];
  if (env !== undefined && env.trim() !== '') return parseMemory(env, MEMORY_ENV);
  return Math.floor(machineMemory() * DEFAULT_MEMORY_SHARE);
}

/** Bytes of every initializer of a graph. */
export function weightBytes(graph: IrGraph): number {
  let total = 0;
  for (const t of graph.initializers.values()) total += t.data.byteLength;
  return total;
}

/**
 * Bytes one row (sample) adds to a run of `graph`: every value with a batch axis, summed as if
 * none shared memory. onnxruntime reuses the buffers of values whose last reader has run, so
 * its true working set is lower (0.25–0.7 of this on resnet50 and efficientnet_b0 with memory
 * patterns off, docs/decisions.md): an upper bound the budget can rely on.
 */
export function rowBytesOf(graph: IrGraph): number | undefined {
  const batch = graph.inputs[0]?.shape[0];
  let total = 0;
  let known = 0;
  const visit = (shape: readonly (number | string)[], bytes: number) => {
    if (shape.length === 0 || shape[0] !== batch) return;
    let size = bytes;
    for (let i = 1; i < shape.length; i++) {
      const d = shape[i];
      if (typeof d !== 'number') return;
      size *= d;
    }
    total += size;
    known++;
  };
  const inputs = new Set(graph.inputs.map((v) => v.name));
  for (const v of graph.inputs) visit(v.shape, bytesPerElement(v.dtype));
  for (const v of graph.values.values()) if (!graph.initializers.has(v.name) && !inputs.has(v.name)) visit(v.shape, bytesPerElement(v.dtype));
  return known > 0 ? total : undefined;
}

function bytesPerElement(dtype: string): number {
  return dtype === 'float64' || dtype === 'int64' ? 8 : dtype === 'int16' ? 2 : dtype === 'int8' || dtype === 'uint8' || dtype === 'bool' ? 1 : 4;
}

/**
 * A model whose activations cannot be sized (no IR: operators the IR cannot model) is charged
 * this many times its input row, about what a 224×224 CNN needs (resnet50: ≈ 170×).
 */
export const UNSIZED_ROW_FACTOR = 256;

/** What running a graph costs in memory: per row in flight, and what it holds whatever the rows (weights). */
export interface GraphCost {
  rowBytes: number;
  fixedBytes: number;
}

/**
 * The one default batch size: rows whose activations come to about TARGET_RUN_BYTES (at least
 * MIN_DEFAULT_BATCH, at most MAX_DEFAULT_BATCH), and never more than fit the budget once the
 * process and its copies of the weights are paid for. A budget that cannot hold a single row is
 * refused, with the figure that would.
 */
export function defaultBatchSize(cost: GraphCost, memory: number = defaultMemoryBudget()): number {
  const fixed = memoryNeeded(cost, 0);
  const rows = Math.floor((memory - fixed) / Math.max(1, cost.rowBytes));
  if (rows < 1) {
    const need = memoryNeeded(cost, 1);
    throw new UsageError(
      `a memory budget of ${formatBytes(memory)} cannot run this model: one row needs about ${formatBytes(need)} (weights and their copies ${formatBytes(cost.fixedBytes)}, activations ${formatBytes(cost.rowBytes)} per row); give --memory ${formatBytes(need, 'ceil')} or more`,
    );
  }
  const quick = Math.max(MIN_DEFAULT_BATCH, Math.floor(TARGET_RUN_BYTES / Math.max(1, cost.rowBytes)));
  return Math.min(MAX_DEFAULT_BATCH, quick, rows);
}

/** Estimated peak memory of a process running `rows` rows at a time through a graph of this cost. */
export function memoryNeeded(cost: GraphCost, rows: number): number {
  return PROCESS_BYTES + cost.fixedBytes + rows * cost.rowBytes;
}

export function formatBytes(bytes: number, round: 'nearest' | 'ceil' = 'nearest'): string {
  const units = ['B', 'K', 'M', 'G', 'T'];
  let v = bytes;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  const r = round === 'ceil' ? Math.ceil(v * 10) / 10 : Math.round(v * 10) / 10;
  return `${r}${units[u]}`;
}
