import { describe, expect, it } from 'vitest';
import { getMethod } from '@blameboard/methods';
import { getMetric } from '@blameboard/metrics';
import { resolveSweepConfig } from './config.js';
import { planCells, type PlannedModel } from './plan.js';

/** planCells reads only these fields of a planned model; no model needs loading to estimate costs. */
const planned = { model: { sha256: 'm' }, sampleKey: 's', forwardCost: 1000, inputs: { shape: [8, 1, 28, 28] } } as unknown as PlannedModel;
const versions = { core: '1', methods: '1', onnxruntime: '1' };

function defaultOf(specs: { name: string; default?: unknown }[], name: string): number {
  const value = specs.find((s) => s.name === name)?.default;
  expect(typeof value, `${name} has a numeric default`).toBe('number');
  return value as number;
}

/** Expected cost of the one cell of a sweep with one method and the given metrics. */
function cost(method: Record<string, unknown>, metrics: Record<string, unknown>[] = [{ metric: 'sparseness' }]): number {
  const sweep = resolveSweepConfig({ models: ['mnist-mlp'], methods: [method], metrics }, '/tmp');
  const [cell] = planCells(sweep, [planned], versions);
  return cell.cost;
}

describe('sweep cost estimate', () => {
  it('takes a parameter the config leaves out at its ParamSpec default', () => {
    const igSteps = defaultOf(getMethod('integrated-gradients').params, 'steps');
    const ig = cost({ method: 'integrated-gradients' });
    expect(ig).toBe(cost({ method: 'integrated-gradients', params: { steps: igSteps } }));
    expect(cost({ method: 'integrated-gradients', params: { steps: 2 * igSteps } })).toBeGreaterThan(ig);

    const samples = defaultOf(getMethod('smoothgrad').params, 'samples');
    expect(cost({ method: 'smoothgrad' })).toBe(cost({ method: 'smoothgrad', params: { samples } }));
    expect(cost({ method: 'smoothgrad', params: { samples: 2 * samples } })).toBeGreaterThan(cost({ method: 'smoothgrad' }));

    const selSteps = defaultOf(getMetric('selectivity').params, 'steps');
    expect(cost({ method: 'gradient' }, [{ metric: 'selectivity' }])).toBe(cost({ method: 'gradient' }, [{ metric: 'selectivity', params: { steps: selSteps } }]));
    expect(cost({ method: 'gradient' }, [{ metric: 'selectivity', params: { steps: 2 * selSteps } }])).toBeGreaterThan(cost({ method: 'gradient' }, [{ metric: 'selectivity' }]));

    const pathSteps = defaultOf(getMetric('continuity').params, 'steps');
    expect(cost({ method: 'gradient' }, [{ metric: 'continuity' }])).toBe(cost({ method: 'gradient' }, [{ metric: 'continuity', params: { steps: pathSteps } }]));
    expect(cost({ method: 'gradient' }, [{ metric: 'continuity', params: { steps: 2 * pathSteps } }])).toBeGreaterThan(cost({ method: 'gradient' }, [{ metric: 'continuity' }]));
  });

  it("steps occlusion's window by the window when no stride is given, as the method does", () => {
    const window = defaultOf(getMethod('occlusion').params, 'window');
    const occlusion = cost({ method: 'occlusion' });
    expect(occlusion).toBe(cost({ method: 'occlusion', params: { window, stride: window } }));
    expect(cost({ method: 'occlusion', params: { window: 2 } })).toBe(cost({ method: 'occlusion', params: { window: 2, stride: 2 } }));
    expect(cost({ method: 'occlusion', params: { stride: 1 } })).toBeGreaterThan(occlusion);
  });
});
