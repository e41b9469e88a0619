import { existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { float32, saveNpy } from '@blameboard/core';
import { runCli, scratchDir } from './test-utils.js';

function inputs(dir: string): string {
  const file = join(dir, 'x.npy');
  saveNpy(file, float32([2, 784], new Float32Array(2 * 784).map((_, i) => (i % 13) / 13)));
  return file;
}

describe('the CLI itself cannot be crashed', () => {
  it('treats command names that are Object properties as unknown commands', async () => {
    for (const name of ['__proto__', 'constructor', 'toString', 'hasOwnProperty']) {
      const run = await runCli(name);
      expect(run.code, name).toBe(2);
      expect(run.stderr).toMatch(new RegExp(`unknown command '${name}'; commands: explain, evaluate`));
    }
  });

  it('says on stderr that a command is missing', async () => {
    for (const argv of [[], ['']]) {
      const run = await runCli(...argv);
      expect(run.code).toBe(2);
      expect(run.stderr).toMatch(/^blameboard: give a command\nusage: blameboard <command>/);
      expect(run.stdout).toBe('');
    }
  });

  it('refuses two results written to the same file, writing neither', async () => {
    const dir = scratchDir();
    const x = inputs(dir);
    const out = join(dir, 'a.npy');
    for (const extra of [['--heatmap', out], ['--bias-out', join(dir, '.', 'a.npy')]]) {
      const run = await runCli('explain', '--model', 'mnist-mlp', '--inputs', x, '--method', 'lrp', '--params', '{"bias":"explicit"}', '--out', out, ...extra);
      expect(run.code).toBe(2);
      expect(run.stderr).toMatch(/is given for two different results/);
      expect(existsSync(out)).toBe(false);
    }
  });

  it('checks every target before renaming any: a directory in the way leaves --out unwritten', async () => {
    const dir = scratchDir();
    const x = inputs(dir);
    mkdirSync(join(dir, 'heat.png'));
    const run = await runCli('explain', '--model', 'mnist-mlp', '--inputs', x, '--method', 'gradient', '--out', join(dir, 'a.npy'), '--heatmap', join(dir, 'heat.png'));
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/cannot write '.*heat\.png': it is a directory/);
    expect(readdirSync(dir).sort()).toEqual(['heat.png', 'x.npy']);
  });

  it('writes output names up to the file system\u2019s 255 bytes', async () => {
    const dir = scratchDir();
    const x = inputs(dir);
    const name = `${'a'.repeat(251)}.npy`;
    const run = await runCli('explain', '--model', 'mnist-mlp', '--inputs', x, '--method', 'gradient', '--out', join(dir, name));
    expect(run.code, run.stderr).toBe(0);
    expect(readdirSync(dir)).toContain(name);
  });

  it('escapes terminal control characters that come from user input', async () => {
    const dir = scratchDir();
    const evil = join(dir, 'm\u001b[31m\u001b]0;pwned\u0007\r\u202eodel.onnx');
    const run = await runCli('predict', '--model', evil, '--inputs', 'x.npy', '--out', join(dir, 'o.npy'));
    expect(run.code).toBe(2);
    expect(run.stderr).not.toMatch(/[\u0000-\u001f\u007f\u202e]/);
    expect(run.stderr).toContain('m\\x1b[31m\\x1b]0;pwned\\x07\\x0d\\u{202e}odel.onnx');
  });

  it('refuses parameters nested too deep or out of range with one line, before any work', async () => {
    const dir = scratchDir();
    const x = inputs(dir);
    const deep = `{"layerRules":${'['.repeat(10_000)}${']'.repeat(10_000)}}`;
    const nested = await runCli('explain', '--model', 'mnist-mlp', '--inputs', x, '--method', 'lrp', '--params', deep, '--out', join(dir, 'a.npy'));
    expect(nested.code).toBe(2);
    expect(nested.stderr).toBe('blameboard explain: --params nests deeper than 64 levels');
    for (const [metric, params, message] of [
      ['selectivity', '{"steps": 1e9}', "parameter 'steps' of metric 'selectivity' must be ≤ 4096, got 1000000000"],
      ['continuity', '{"steps": 100000}', "parameter 'steps' of metric 'continuity' must be ≤ 1024, got 100000"],
      ['selectivity', '{"fill": "blur", "blurSigma": 1e6}', "parameter 'blurSigma' of metric 'selectivity' must be ≤ 64, got 1000000"],
    ]) {
      const run = await runCli('evaluate', '--model', 'mnist-mlp', '--inputs', x, '--method', 'gradient', '--metric', metric, '--params', params, '--out', join(dir, 'm.json'));
      expect(run.code, metric).toBe(2);
      expect(run.stderr).toBe(`blameboard evaluate: ${message}`);
    }
    const gamma = await runCli('explain', '--model', 'mnist-mlp', '--inputs', x, '--method', 'lrp', '--params', '{"composite": "gamma", "gamma": 1e308}', '--out', join(dir, 'a.npy'));
    expect(gamma.code).toBe(2);
    expect(gamma.stderr).toMatch(/parameter 'gamma' of method 'lrp' must be ≤ 1000000, got 1e\+308/);
    expect(readdirSync(dir)).toEqual(['x.npy']);
  });

  it('marks samples whose given attributions hold NaN or Inf invalid, and says so', async () => {
    const dir = scratchDir();
    const x = inputs(dir);
    const a = new Float32Array(2 * 784).map((_, i) => (i % 5) - 2);
    a[10] = NaN;
    saveNpy(join(dir, 'a.npy'), float32([2, 784], a));
    for (const metric of ['selectivity', 'conservation', 'sparseness', 'complexity']) {
      const run = await runCli('evaluate', '--model', 'mnist-mlp', '--inputs', x, '--attributions', join(dir, 'a.npy'), '--metric', metric, '--out', join(dir, 'm.json'));
      expect(run.code, run.stderr).toBe(0);
      expect(run.stderr).toContain('1 of 2 samples invalid, left out of every value (sample 0: attribution has 1 NaN value)');
      const doc = JSON.parse(readFileSync(join(dir, 'm.json'), 'utf8'));
      expect(doc.invalid).toEqual([{ index: 0, reason: 'attribution has 1 NaN value' }]);
      for (const v of Object.values(doc.values) as { perSample: (number | null)[] }[]) expect(v.perSample[0]).toBeNull();
    }
  });

  it('refuses devices given as the model or the inputs with one line', async () => {
    const dir = scratchDir();
    const x = inputs(dir);
    const model = await runCli('predict', '--model', '/dev/zero', '--inputs', x, '--out', join(dir, 'o.npy'));
    expect(model.code).toBe(2);
    expect(model.stderr).toMatch(/^blameboard predict: .*\/dev\/zero.*not a regular file/);
    const input = await runCli('predict', '--model', 'mnist-mlp', '--inputs', '/dev/zero', '--out', join(dir, 'o.npy'));
    expect(input.code).toBe(2);
    expect(input.stderr).toMatch(/^blameboard predict: .*\/dev\/zero.*not a regular file/);
    expect(readdirSync(dir)).toEqual(['x.npy']);
  });
});
