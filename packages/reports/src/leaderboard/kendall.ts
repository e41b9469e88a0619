/**
 * Kendall's τ-b between two score vectors (ties in either count as neither concordant nor
 * discordant, and τ-b corrects the denominator for them, as scipy's default). Null when fewer
 * than 3 pairs or one side is constant: no ordering to agree on.
 */
export function kendallTauB(a: readonly number[], b: readonly number[]): number | null {
  const n = a.length;
  if (n !== b.length) throw new Error(`kendallTauB needs equal lengths, got ${n} and ${b.length}`);
  if (n < 3) return null;
  let concordant = 0;
  let discordant = 0;
  let tiesA = 0;
  let tiesB = 0;
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++) {
      const da = Math.sign(a[i] - a[j]);
      const db = Math.sign(b[i] - b[j]);
      if (da === 0 && db === 0) continue;
      if (da === 0) tiesA++;
      else if (db === 0) tiesB++;
      else if (da === db) concordant++;
      else discordant++;
    }
  }
  const denom = Math.sqrt((concordant + discordant + tiesA) * (concordant + discordant + tiesB));
  return denom === 0 ? null : (concordant - discordant) / denom;
}
