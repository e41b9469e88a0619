import { afterAll, describe, expect, it } from 'vitest';
import { disposeSessions, float32, type IrNode } from '@blameboard/core';
import { adjointCheck, forwardOf, graphOf, int, int64, ints, flt, node, str } from '@blameboard/testing/graphs';
import { gradientRules } from './index.js';
import { resizeMatrix } from './resize.js';

afterAll(() => disposeSessions());

type Attrs = IrNode['attributes'];

/** Resize modes, coordinate transforms and roundings as exporters write them. */
const CASES: { name: string; attrs: Attrs; inLen: number; outLen: number }[] = [
  { name: 'nearest, asymmetric floor ×2 (Upsample)', attrs: { mode: str('nearest'), coordinate_transformation_mode: str('asymmetric'), nearest_mode: str('floor') }, inLen: 4, outLen: 8 },
  { name: 'nearest, half-pixel round_prefer_floor 4→7', attrs: { mode: str('nearest') }, inLen: 4, outLen: 7 },
  { name: 'nearest, half-pixel round_prefer_ceil 5→3', attrs: { mode: str('nearest'), nearest_mode: str('round_prefer_ceil') }, inLen: 5, outLen: 3 },
  { name: 'nearest, align-corners ceil 4→9', attrs: { mode: str('nearest'), coordinate_transformation_mode: str('align_corners'), nearest_mode: str('ceil') }, inLen: 4, outLen: 9 },
  { name: 'linear, half-pixel 4→7', attrs: { mode: str('linear') }, inLen: 4, outLen: 7 },
  { name: 'linear, pytorch half-pixel 6→3', attrs: { mode: str('linear'), coordinate_transformation_mode: str('pytorch_half_pixel') }, inLen: 6, outLen: 3 },
  { name: 'linear, align-corners 3→8', attrs: { mode: str('linear'), coordinate_transformation_mode: str('align_corners') }, inLen: 3, outLen: 8 },
  { name: 'linear, asymmetric 5→8', attrs: { mode: str('linear'), coordinate_transformation_mode: str('asymmetric') }, inLen: 5, outLen: 8 },
  { name: 'linear, half-pixel symmetric 5→8', attrs: { mode: str('linear'), coordinate_transformation_mode: str('half_pixel_symmetric') }, inLen: 5, outLen: 8 },
  { name: 'cubic, half-pixel 4→9', attrs: { mode: str('cubic') }, inLen: 4, outLen: 9 },
  { name: 'cubic, align-corners, exclude_outside, A = −0.5, 6→4', attrs: { mode: str('cubic'), coordinate_transformation_mode: str('align_corners'), exclude_outside: int(1), cubic_coeff_a: flt(-0.5) }, inLen: 6, outLen: 4 },
];

describe('Resize interpolation matrices', () => {
  for (const c of CASES) {
    it(`equal onnxruntime's Resize along the last axis: ${c.name}`, async () => {
      // The identity matrix as [1, 1, in, in] rows: resized along the last axis it returns the matrix's transpose.
      const g = graphOf([node('Resize', ['x', '', '', 'sizes'], ['y'], { ...c.attrs, axes: ints([3]) })], { sizes: int64([c.outLen]) }, [1, 1, c.inLen, c.inLen], 18);
      const eye = float32([1, 1, c.inLen, c.inLen], Array.from({ length: c.inLen * c.inLen }, (_, i) => (Math.floor(i / c.inLen) === i % c.inLen ? 1 : 0)));
      const y = (await forwardOf(g, eye)).data as Float32Array;
      const m = resizeMatrix(g.nodes[0], c.inLen, c.outLen, Math.fround(c.outLen / c.inLen));
      for (let o = 0; o < c.outLen; o++) {
        for (let i = 0; i < c.inLen; i++) expect(Math.abs(m.data[o * c.inLen + i] - y[i * c.outLen + o]), `out ${o} in ${i}`).toBeLessThan(1e-6);
      }
    });
  }
});

describe('Resize gradient', () => {
  const rules = gradientRules();
  it('passes the dot-product test on both spatial axes with scales, sizes and a symbolic batch', async () => {
    for (const c of CASES) {
      const g = graphOf(
        [node('Resize', ['x', '', '', 'sizes'], ['r'], { ...c.attrs, axes: ints([2, 3]) }), node('Flatten', ['r'], ['y'])],
        { sizes: int64([c.outLen - 1, c.outLen]) },
        ['N', 2, c.inLen + 1, c.inLen],
        18,
      );
      const { forward, backward } = await adjointCheck(g, rules, 2, 17);
      expect(Math.abs(backward - forward), c.name).toBeLessThan(1e-5 * Math.abs(forward) + 1e-5);
    }
  });
});
