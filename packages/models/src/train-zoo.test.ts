import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { sha256 } from './card.js';
import { trainZoo } from './train-zoo.js';

const dirs: string[] = [];
const scratch = () => {
  const d = mkdtempSync(join(tmpdir(), 'bb-zoo-'));
  dirs.push(d);
  return d;
};
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

describe('trainZoo (quick runs)', () => {
  it('trains, exports and writes a card whose sha256 is the file’s; the same seed gives the same bytes', async () => {
    const lines: string[] = [];
    const [a, b] = [scratch(), scratch()];
    const [card] = await trainZoo(['synthetic-mlp'], { dir: a, epochs: 1, trainCount: 256, onProgress: (l) => lines.push(l) });
    await trainZoo(['synthetic-mlp'], { dir: b, epochs: 1, trainCount: 256 });
    const bytes = readFileSync(join(a, 'synthetic-mlp.onnx'));
    expect(card.sha256).toBe(sha256(bytes));
    expect(JSON.parse(readFileSync(join(a, 'synthetic-mlp.card.json'), 'utf8'))).toEqual(
      JSON.parse(JSON.stringify(card)),
    );
    expect(card.exportMaxAbsDifference).toBeLessThanOrEqual(1e-4);
    expect(card.r2).toBeTypeOf('number');
    expect(card.inputShape).toEqual([96]);
    expect(existsSync(join(a, 'tfjs', 'synthetic-mlp', 'model.json'))).toBe(true);
    expect(readFileSync(join(b, 'synthetic-mlp.onnx')).equals(bytes)).toBe(true);
    expect(lines.some((l) => /epoch 1\/1/.test(l))).toBe(true);
  });

  it('builds a twin from the shipped base model and checks the pair', async () => {
    const dir = scratch();
    const [card] = await trainZoo(['mnist-mlp-rescaled'], { dir });
    expect(card.derivedFrom?.id).toBe('mnist-mlp');
    expect(card.maxAbsDifference).toBeLessThanOrEqual(1e-4);
    expect(card.sha256).toBe(sha256(readFileSync(join(dir, 'mnist-mlp-rescaled.onnx'))));
  });

  it('rejects unknown ids, listing the known ones', async () => {
    await expect(trainZoo(['resnet'])).rejects.toThrow(/unknown zoo model 'resnet' \(known: .*mnist-cnn/);
  });
});
