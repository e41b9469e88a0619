/**
 * The one colour map of Blameboard's pictures (`explain --heatmap` and the report's heatmap grid):
 * diverging and centred at 0, so the sign of relevance reads at a glance and two maps scaled to
 * their own max |R| compare by shape. −1 → blue, 0 → white, +1 → red.
 */
export type Rgb = [number, number, number];

export function diverging(v: number): Rgb {
  const t = Number.isFinite(v) ? Math.max(-1, Math.min(1, v)) : 0;
  const fade = Math.round(255 * (1 - Math.abs(t)));
  return t >= 0 ? [255, fade, fade] : [fade, fade, 255];
}

/** Inputs are drawn in grey, stretched to their own min…max. */
export function grey(v: number, lo: number, hi: number): Rgb {
  const g = hi > lo ? Math.round((255 * (v - lo)) / (hi - lo)) : 128;
  return [g, g, g];
}
