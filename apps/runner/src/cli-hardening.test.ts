import { existsSync, mkdirSync, readdirSync } from 'node:fs';
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
});
