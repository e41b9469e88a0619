import { allFinite, ModelRunError, sizeOf, type Tensor } from '@blameboard/core';

/** The NaN and ±Infinity values of an [N, …] result, and the samples holding them (in order). */
export interface NonFinite {
  nan: number;
  inf: number;
  samples: number[];
}

export function findNonFinite(t: Tensor): NonFinite | null {
  if (t.data instanceof Float32Array && allFinite(t.data)) return null;
  const per = Math.max(1, sizeOf(t.shape.slice(1)));
  const data = t.data as Float32Array;
  let nan = 0;
  let inf = 0;
  const samples: number[] = [];
  for (let i = 0; i < data.length; i++) {
    const v = data[i];
    if (v - v === 0) continue;
    if (Number.isNaN(v)) nan++;
    else inf++;
    const s = Math.floor(i / per);
    if (samples[samples.length - 1] !== s) samples.push(s);
  }
  return nan || inf ? { nan, inf, samples } : null;
}

/** "3 NaN and 96 Inf" */
export function nonFiniteCounts(bad: NonFinite): string {
  return [bad.nan ? `${bad.nan} NaN` : '', bad.inf ? `${bad.inf} Inf` : ''].filter(Boolean).join(' and ');
}

/** "samples 0, 1, 2, … (16 of 16)" */
export function sampleList(samples: number[], of: number): string {
  const shown = samples.slice(0, 5).join(', ');
  return `sample${samples.length === 1 ? '' : 's'} ${shown}${samples.length > 5 ? ', …' : ''} (${samples.length} of ${of})`;
}

/**
 * Refuses a result that holds NaN or ±Infinity before anything is written: a command that
 * writes it would hand the user NaN with exit 0. `what` names the result ("integrated-gradients'
 * attributions", "the model's logits").
 */
export function refuseNonFinite(t: Tensor, what: string, hint: string): void {
  const bad = findNonFinite(t);
  if (!bad) return;
  throw new ModelRunError(`${what} hold ${nonFiniteCounts(bad)} in ${sampleList(bad.samples, t.shape[0])}; nothing written (${hint})`);
}
