import { describe, expect, it } from 'vitest';
import { UsageError } from './errors.js';
import { resolveParams, type ParamSpec } from './params.js';

const specs: ParamSpec[] = [
  { name: 'steps', type: 'integer', description: '', default: 32, min: 1, max: 4096 },
  { name: 'rule', type: 'string', description: '', default: 'gauss-legendre', choices: ['gauss-legendre', 'riemann-left'] },
  { name: 'baseline', type: 'string', description: '', default: 'zero', choices: ['zero', 'mean'], allowNumber: true },
  { name: 'abs', type: 'boolean', description: '', default: false },
  { name: 'low', type: 'number', description: '' },
];

function refusal(given: Record<string, unknown>): string {
  try {
    resolveParams('integrated-gradients', specs, given);
  } catch (e) {
    expect(e).toBeInstanceOf(UsageError);
    return (e as Error).message;
  }
  throw new Error('expected a refusal');
}

describe('resolveParams', () => {
  it('fills defaults and keeps given values', () => {
    expect(resolveParams('m', specs, { steps: 64, baseline: 0.5 })).toEqual({ steps: 64, rule: 'gauss-legendre', baseline: 0.5, abs: false });
  });

  it('refuses unknown names, listing the known ones', () => {
    expect(refusal({ stepz: 3 })).toMatch(/unknown parameter 'stepz'.*steps, rule, baseline, abs, low/);
  });

  it('refuses values outside their type, choices or bounds', () => {
    expect(refusal({ steps: 0 })).toMatch(/≥ 1/);
    expect(refusal({ steps: 1e9 })).toMatch(/≤ 4096/);
    expect(refusal({ steps: 2.5 })).toMatch(/integer/);
    expect(refusal({ rule: 'simpson' })).toMatch(/gauss-legendre, riemann-left/);
    expect(refusal({ abs: 'yes' })).toMatch(/true or false/);
    expect(refusal({ low: Number.NaN })).toMatch(/finite number/);
  });
});
