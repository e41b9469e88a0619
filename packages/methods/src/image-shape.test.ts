import { describe, expect, it } from 'vitest';
import { geometryShape } from './image-shape.js';

describe('geometryShape', () => {
  it('uses the image shape when it has the sample size, else the sample shape', () => {
    expect(geometryShape([784], [1, 28, 28])).toEqual([1, 28, 28]);
    expect(geometryShape([1, 28, 28], [1, 28, 28])).toEqual([1, 28, 28]);
    expect(geometryShape([784], [3, 28, 28])).toEqual([784]);
    expect(geometryShape([784], undefined)).toEqual([784]);
    expect(geometryShape([784], [])).toEqual([784]);
    expect(geometryShape([4], [2, 2.5, 0.8])).toEqual([4]);
  });
});
