import { describe, expect, it } from 'vitest';
import { allFinite } from './finite.js';

const EDGES = [0, -0, 1, -1, 3.4e38, -3.4e38, 1e-45, -1e-45, 1.1754942e-38];

describe('allFinite', () => {
  it.each([Float32Array, Float64Array])('%o: true for finite values, extremes and subnormals included', (Ctor) => {
    expect(allFinite(Ctor.from(EDGES))).toBe(true);
    expect(allFinite(Ctor.from(EDGES.concat(Ctor === Float64Array ? [1.7e308, 5e-324] : [])))).toBe(true);
    expect(allFinite(new Ctor(0))).toBe(true);
  });

  it.each([Float32Array, Float64Array])('%o: false for NaN (any payload), Infinity and -Infinity at any position', (Ctor) => {
    for (const bad of [NaN, Infinity, -Infinity]) {
      for (const at of [0, 4, EDGES.length - 1]) {
        const d = Ctor.from(EDGES);
        d[at] = bad;
        expect(allFinite(d), `${bad} at ${at}`).toBe(false);
      }
    }
    // a NaN with a different payload and the sign bit set
    const f = new Float32Array(3);
    new Uint32Array(f.buffer)[1] = 0xffc00001;
    expect(allFinite(f)).toBe(false);
  });

  it('reads only the view it is given (a subarray that leaves a NaN outside)', () => {
    const d = new Float32Array([NaN, 1, 2, Infinity]);
    expect(allFinite(d.subarray(1, 3))).toBe(true);
    const e = new Float64Array([NaN, 1, 2, -Infinity]);
    expect(allFinite(e.subarray(1, 3))).toBe(true);
    expect(allFinite(e.subarray(2))).toBe(false);
  });
});
