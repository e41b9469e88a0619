import { UsageError } from '@blameboard/core';
import { describe, expect, it } from 'vitest';
import { cropBox, parsePreprocess, perChannel, pixelRange, resizedSize } from './preprocess.js';

const IMAGENET = { resize: 256, crop: 224, mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] };

function refusal(value: unknown): string {
  try {
    parsePreprocess(value);
  } catch (e) {
    expect(e).toBeInstanceOf(UsageError);
    expect((e as Error).message).not.toContain('\n');
    return (e as Error).message;
  }
  throw new Error(`expected ${JSON.stringify(value)} to be refused`);
}

describe('parsePreprocess', () => {
  it('accepts the ImageNet spec, sizes as [height, width], single values, and nothing at all', () => {
    expect(parsePreprocess(IMAGENET)).toEqual(IMAGENET);
    expect(parsePreprocess({ resize: [300, 200], crop: [28, 20], mean: 0.5, std: 0.25 })).toEqual({ resize: [300, 200], crop: [28, 20], mean: [0.5], std: [0.25] });
    expect(parsePreprocess(undefined)).toEqual({});
    expect(parsePreprocess({})).toEqual({});
  });

  it('refuses each bad field with a one-line error naming it', () => {
    expect(refusal({ resize: 256, crop: 224, scale: 2 })).toBe("preprocess: unknown field 'scale'; known fields: resize, crop, mean, std");
    expect(refusal({ resize: 0 })).toMatch(/^preprocess\.resize must be a whole number of pixels from 1 to 16384, got 0$/);
    expect(refusal({ resize: 2.5 })).toMatch(/^preprocess\.resize must be a whole number/);
    expect(refusal({ resize: '256' })).toMatch(/^preprocess\.resize must be a whole number.*got "256"$/);
    expect(refusal({ crop: [224] })).toMatch(/^preprocess\.crop must be a number or \[height, width\], got \[224\]$/);
    expect(refusal({ crop: [224, -1] })).toMatch(/^preprocess\.crop\[1\] must be a whole number/);
    expect(refusal({ mean: ['a', 0.4, 0.4] })).toBe('preprocess.mean[0] must be a finite number, got "a"');
    expect(refusal({ mean: [] })).toMatch(/^preprocess\.mean must be a number or a non-empty array/);
    expect(refusal({ std: [0.2, 0, 0.2] })).toBe('preprocess.std[1] must be > 0, got 0');
    expect(refusal({ std: -1 })).toBe('preprocess.std must be > 0, got -1');
    expect(refusal([256, 224])).toMatch(/^preprocess must be a JSON object such as/);
    expect(() => parsePreprocess({ std: [1, -2] }, '/models/0/preprocess')).toThrow('/models/0/preprocess.std[1] must be > 0, got -2');
  });

  it('expands per-channel values and refuses a count that fits neither 1 nor the channels', () => {
    expect(perChannel('mean', [0.5], 3, 0)).toEqual([0.5, 0.5, 0.5]);
    expect(perChannel('std', undefined, 2, 1)).toEqual([1, 1]);
    expect(() => perChannel('mean', [0.1, 0.2, 0.3], 1, 0)).toThrow('preprocess.mean has 3 values but the inputs have 1 channel; give one value');
  });
});

describe('preprocessing geometry, as torchvision computes it', () => {
  it('resizes the shorter side and truncates the longer one', () => {
    // torchvision: new_long = int(256 * 640 / 480) = int(341.33) = 341.
    expect(resizedSize(480, 640, 256)).toEqual([256, 341]);
    expect(resizedSize(640, 480, 256)).toEqual([341, 256]);
    expect(resizedSize(100, 100, 7)).toEqual([7, 7]);
    expect(resizedSize(50, 60, [20, 30])).toEqual([20, 30]);
    expect(resizedSize(50, 60, undefined)).toEqual([50, 60]);
  });

  it("centres the crop with Python's round-half-to-even", () => {
    // (257 − 224)/2 = 16.5 → 16; (300 − 224)/2 = 38; (259 − 224)/2 = 17.5 → 18.
    expect(cropBox(257, 300, 224)).toEqual({ top: 16, left: 38, height: 224, width: 224 });
    expect(cropBox(259, 225, 224)).toEqual({ top: 18, left: 0, height: 224, width: 224 });
    expect(cropBox(10, 12, [4, 6])).toEqual({ top: 3, left: 3, height: 4, width: 6 });
    expect(() => cropBox(200, 300, 224)).toThrow('preprocess.crop 224×224 is larger than the 200×300 image it crops');
  });

  it('maps [0, 1] pixels to (0 − mean)/std … (1 − mean)/std per channel', () => {
    const range = pixelRange(IMAGENET, 3);
    IMAGENET.mean.forEach((m, c) => {
      expect(range.low[c]).toBeCloseTo(-m / IMAGENET.std[c], 12);
      expect(range.high[c]).toBeCloseTo((1 - m) / IMAGENET.std[c], 12);
    });
    expect(range.low[0]).toBeCloseTo(-2.1179039, 6);
    expect(range.high[2]).toBeCloseTo(2.64, 12);
    expect(pixelRange({}, 1)).toEqual({ low: [0], high: [1] });
  });
});
