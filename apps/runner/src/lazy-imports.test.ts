import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { float32, saveNpy } from '@blameboard/core';
import { getZooEntry, ZOO_DIR } from '@blameboard/models';

const RUNNER_DIR = fileURLToPath(new URL('..', import.meta.url));
const work = mkdtempSync(join(tmpdir(), 'bb-lazy-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

// A module-resolution hook that appends every module the process resolves to a log file: what a
// command loaded, dynamic imports included.
writeFileSync(
  join(work, 'hooks.mjs'),
  `import { appendFileSync } from 'node:fs';
export async function resolve(specifier, context, next) {
  const r = await next(specifier, context);
  appendFileSync(process.env.BB_MODULE_LOG, r.url + '\\n');
  return r;
}
`,
);
writeFileSync(join(work, 'register.mjs'), `import { register } from 'node:module';\nregister(${JSON.stringify(pathToFileURL(join(work, 'hooks.mjs')).href)});\n`);
saveNpy(join(work, 'x.npy'), float32([2, 784], new Float32Array(2 * 784).fill(0.25)));

/** The modules a CLI run resolved (it must succeed). */
function modulesOf(name: string, ...argv: string[]): string[] {
  const log = join(work, `${name}.log`);
  const run = spawnSync(process.execPath, ['--import', 'tsx', '--import', join(work, 'register.mjs'), 'src/cli.ts', ...argv], {
    cwd: RUNNER_DIR,
    env: { ...process.env, BB_MODULE_LOG: log, BLAMEBOARD_CACHE_DIR: 'off' },
    encoding: 'utf8',
  });
  expect(run.status, run.stderr).toBe(0);
  return readFileSync(log, 'utf8').trim().split('\n');
}

const tfjsModules = (modules: string[]) => modules.filter((m) => m.includes('/@tensorflow/'));

describe('the CLI loads what a command needs, no more', () => {
  it('explain on a zoo model and on an ONNX file loads no @tensorflow package', () => {
    for (const [name, model] of [['zoo', 'mnist-mlp'], ['onnx', getZooEntry('mnist-mlp').file]]) {
      const modules = modulesOf(name, 'explain', '--model', model, '--inputs', join(work, 'x.npy'), '--method', 'gradient', '--out', join(work, `${name}.npy`));
      // The log is the real list: onnxruntime and the methods ran.
      expect(modules.some((m) => m.includes('onnxruntime-node'))).toBe(true);
      expect(modules.some((m) => /\/methods\/dist\/index\.js$/.test(m))).toBe(true);
      expect(tfjsModules(modules)).toEqual([]);
    }
  });

  it('a tfjs model.json does load tfjs (so the check above can see it)', () => {
    const modules = modulesOf('tfjs', 'predict', '--model', join(ZOO_DIR, 'tfjs', 'mnist-mlp', 'model.json'), '--inputs', join(work, 'x.npy'), '--out', join(work, 'tfjs.npy'));
    expect(tfjsModules(modules).some((m) => m.includes('/@tensorflow/tfjs-core/'))).toBe(true);
  });

  it('list methods loads the methods registry only: no metrics, models, datasets or tfjs', () => {
    const modules = modulesOf('list', 'list', 'methods');
    expect(modules.some((m) => /\/methods\/dist\/index\.js$/.test(m))).toBe(true);
    expect(modules.filter((m) => /\/(metrics|models|datasets|reports|tfjs)\/dist\//.test(m) || m.includes('/@tensorflow/'))).toEqual([]);
  });
});
