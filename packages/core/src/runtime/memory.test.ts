import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { UsageError } from '../errors.js';
import { emptyGraph, mlpGraph, node } from '../onnx/test-utils/fixture-graphs.js';
import { inferShapes } from '../ir/shape-inference.js';
import { defaultMemoryBudget, machineMemory, MEMORY_ENV, parseMemory, rowBytesOf, weightBytes } from './memory.js';

const outside = process.env[MEMORY_ENV];
beforeEach(() => {
  delete process.env[MEMORY_ENV];
});
afterEach(() => {
  if (outside === undefined) delete process.env[MEMORY_ENV];
  else process.env[MEMORY_ENV] = outside;
});

describe('parseMemory', () => {
  it('reads bytes, binary units and a share of the machine', () => {
    expect(parseMemory('1048576')).toBe(2 ** 20);
    expect(parseMemory('512M')).toBe(512 * 2 ** 20);
    expect(parseMemory('4G')).toBe(4 * 2 ** 30);
    expect(parseMemory('1.5GiB')).toBe(1.5 * 2 ** 30);
    expect(parseMemory(' 2gb ')).toBe(2 * 2 ** 30);
    expect(parseMemory('50%')).toBe(Math.floor(machineMemory() / 2));
  });

  it('refuses what is not a size, and sizes below the minimum, as usage errors', () => {
    for (const bad of ['', 'lots', '-1G', '4X', '1e9', '0%', '101%', '512K']) {
      expect(() => parseMemory(bad), bad).toThrow(UsageError);
    }
    expect(parseMemory('512K', 'x', 0)).toBe(512 * 1024);
  });
});

describe('defaultMemoryBudget', () => {
  it('is BLAMEBOARD_MEMORY when set, else half the machine', () => {
    expect(defaultMemoryBudget()).toBe(Math.floor(machineMemory() * 0.5));
    process.env[MEMORY_ENV] = '3G';
    expect(defaultMemoryBudget()).toBe(3 * 2 ** 30);
    process.env[MEMORY_ENV] = 'plenty';
    expect(() => defaultMemoryBudget()).toThrow(/BLAMEBOARD_MEMORY must be a size/);
  });
});

describe('rowBytesOf', () => {
  it('sums every batch-sized value of one row, the input included, and no weight', () => {
    // mlp: x [N,4] → Gemm [N,5] → Relu [N,5] → Gemm [N,3]: 4 + 5 + 5 + 3 floats per row.
    const g = mlpGraph();
    inferShapes(g);
    expect(rowBytesOf(g)).toBe(4 * (4 + 5 + 5 + 3));
    expect(weightBytes(g)).toBe(4 * (5 * 4 + 5 + 3 * 5 + 3));
  });

  it('leaves values without a known size out, and says so when none is known', () => {
    const g = emptyGraph({ name: 'x', shape: ['N', 'W'] });
    g.nodes.push(node('Relu', 'relu', ['x'], ['y']));
    g.outputs = [{ name: 'y', dtype: 'float32', shape: [] }];
    inferShapes(g);
    expect(rowBytesOf(g)).toBeUndefined();
  });
});
