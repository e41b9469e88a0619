import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeFileSync } from 'node:fs';
import { float32, Rng, saveNpy, writeOnnx, type IrGraph } from '@blameboard/core';
import type { Io } from './io.js';
import { main } from './main.js';

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the CLI in-process with captured output. */
export async function runCli(...argv: string[]): Promise<CliRun> {
  const out: string[] = [];
  const err: string[] = [];
  const io: Io = { out: (l) => out.push(l), err: (l) => err.push(l), isTty: false };
  const code = await main(argv, io);
  return { code, stdout: out.join('\n'), stderr: err.join('\n') };
}

export function scratchDir(): string {
  return mkdtempSync(join(tmpdir(), 'blameboard-cli-'));
}

/**
 * A small ReLU network (6 → 4 → 3, weights 10–14) written as `overflow.onnx` with `n` inputs in
 * [0, 1) as `x.npy` into `dir`. Integrated Gradients from a baseline of 3e38 multiplies
 * (x − x′) ≈ −3e38 by gradients of about 10 and overflows float32 to −Inf; every other method
 * stays finite — a cell that must come out invalid.
 */
export function writeOverflowModel(dir: string, n: number): void {
  const graph: IrGraph = {
    name: 'overflow',
    irVersion: 8,
    opsetVersion: 13,
    producerName: 'blameboard-test',
    inputs: [{ name: 'x', dtype: 'float32', shape: ['N', 6] }],
    outputs: [{ name: 'y', dtype: 'float32', shape: ['N', 3] }],
    initializers: new Map([
      ['W', float32([4, 6], Array.from({ length: 24 }, (_, i) => 10 + (i % 5)))],
      ['b', float32([4])],
      ['W2t', float32([4, 3], [1, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 1])],
    ]),
    nodes: [
      { name: 'dense', opType: 'Gemm', domain: '', inputs: ['x', 'W', 'b'], outputs: ['h'], attributes: { transB: { type: 'int', value: 1 } } },
      { name: 'relu', opType: 'Relu', domain: '', inputs: ['h'], outputs: ['r'], attributes: {} },
      { name: 'out', opType: 'MatMul', domain: '', inputs: ['r', 'W2t'], outputs: ['y'], attributes: {} },
    ],
    values: new Map(),
  };
  writeFileSync(join(dir, 'overflow.onnx'), writeOnnx(graph));
  const x = new Float32Array(n * 6);
  new Rng(1).fillUniform(x);
  saveNpy(join(dir, 'x.npy'), float32([n, 6], x));
}
