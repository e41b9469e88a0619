/** Ranks 1…n with tied values sharing the average of their ranks (scipy's 'average'). */
export function averageRanks(values: ArrayLike<number>): Float64Array {
  const n = values.length;
  const idx = Array.from({ length: n }, (_, i) => i).sort((a, b) => values[a] - values[b]);
  const ranks = new Float64Array(n);
  let i = 0;
  while (i < n) {
    let j = i;
    while (j + 1 < n && values[idx[j + 1]] === values[idx[i]]) j++;
    const rank = (i + j) / 2 + 1;
    for (let k = i; k <= j; k++) ranks[idx[k]] = rank;
    i = j + 1;
  }
  return ranks;
}

/**
 * Spearman's ρ: the Pearson correlation of average ranks. Two constant maps count as identical
 * (1, SPEC §4 randomization: a constant explanation that stays constant has not changed); one
 * constant map against a varying one shares no ordering (0).
 */
export function spearman(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`spearman needs equal lengths, got ${a.length} and ${b.length}`);
  const ra = averageRanks(a);
  const rb = averageRanks(b);
  const n = ra.length;
  const mean = (n + 1) / 2;
  let sab = 0;
  let saa = 0;
  let sbb = 0;
  for (let i = 0; i < n; i++) {
    const da = ra[i] - mean;
    const db = rb[i] - mean;
    sab += da * db;
    saa += da * da;
    sbb += db * db;
  }
  if (saa === 0 && sbb === 0) return 1;
  if (saa === 0 || sbb === 0) return 0;
  return sab / Math.sqrt(saa * sbb);
}
