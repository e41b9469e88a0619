import { describe, expect, it } from 'vitest';
import { describeGraph, parameterCount, sha256 } from './card.js';
import { tinyCnn, tinyMlp } from '@blameboard/testing/tiny-graphs';

describe('model card helpers', () => {
  it('counts weights and biases', () => {
    // 6·7 + 7 + 7·3 + 3
    expect(parameterCount(tinyMlp())).toBe(73);
    // conv1 4·2·9 + 4, conv2 3·4·9 + 3, fc 5·3 + 5
    expect(parameterCount(tinyCnn())).toBe(76 + 111 + 20);
  });

  it('describes each layer on one line', () => {
    expect(describeGraph(tinyCnn())).toEqual([
      'conv1: Conv 2→4 3×3 stride 1 pads 0,0,0,0',
      'relu1: Relu',
      'pool1: MaxPool 2×2 stride 2,2',
      'conv2: Conv 4→3 3×3 stride 1 pads 0,0,0,0',
      'relu2: Relu',
      'flatten: Flatten',
      'fc: Gemm 3→5',
    ]);
  });

  it('hashes bytes as hex sha256', () => {
    expect(sha256(new TextEncoder().encode('abc'))).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  });
});
