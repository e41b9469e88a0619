import { describe, expect, it } from 'vitest';
import { float32 } from '@blameboard/core';
import { graphOf, node } from '@blameboard/testing/graphs';
import { isNonNegative } from './non-negative.js';

describe('isNonNegative', () => {
  it('knows ReLU6 (Clip with a lower bound ≥ 0) through pooling and reshapes, and not a Clip that lets negatives through', () => {
    const g = graphOf(
      [
        node('Clip', ['x', 'zero', 'six'], ['r6']),
        node('GlobalAveragePool', ['r6'], ['p']),
        node('Flatten', ['p'], ['f']),
        node('Clip', ['x', 'minus', 'six'], ['c']),
        node('HardSigmoid', ['x'], ['hs']),
        node('Mul', ['c', 'hs'], ['m']),
        node('Flatten', ['m'], ['fm']),
        node('Concat', ['f', 'fm'], ['y'], { axis: { type: 'int', value: 1 } }),
      ],
      { zero: float32([], [0]), six: float32([], [6]), minus: float32([], [-1]) },
      ['N', 2, 2, 2],
    );
    expect(isNonNegative(g, 'f')).toBe(true);
    expect(isNonNegative(g, 'c')).toBe(false);
    expect(isNonNegative(g, 'hs')).toBe(true);
    expect(isNonNegative(g, 'm')).toBe(false);
    expect(isNonNegative(g, 'x')).toBe(false);
    expect(isNonNegative(g, 'x', true)).toBe(true);
  });
});
