import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import { UsageError } from '@blameboard/core';
import type { Tf } from './tf-namespace.js';
import { patchWasmKernels } from './wasm-kernels.js';

export type { Tf } from './tf-namespace.js';

export type TfjsBackendName = 'tensorflow' | 'wasm' | 'cpu';

export interface TfjsInfo {
  /** The backend that runs tfjs ops: 'tensorflow' (tfjs-node), 'wasm' or 'cpu'. */
  backend: string;
  tfjsVersion: string;
}

const ORDER: TfjsBackendName[] = ['tensorflow', 'wasm', 'cpu'];

/** Environment variable that forces one backend (tests, debugging, reproducing a result). */
export const TFJS_BACKEND_ENV = 'BLAMEBOARD_TFJS_BACKEND';

const require = createRequire(import.meta.url);

let tfModule: Tf | null = null;
let wasmPathsSet = false;
let initPromise: Promise<TfjsInfo> | null = null;

async function loadCore(): Promise<Tf> {
  if (!tfModule) tfModule = (await import('@tensorflow/tfjs-core')) as unknown as Tf;
  // CJS interop can nest the namespace under `default`.
  const m = tfModule as Tf & { default?: Tf };
  if (typeof m.tensor !== 'function' && m.default) tfModule = m.default;
  return tfModule;
}

/** Registers the backend's kernels with tfjs-core; false when its package is not installed. */
async function register(tf: Tf, name: TfjsBackendName): Promise<boolean> {
  try {
    if (name === 'tensorflow') {
      // Optional peer dependency: its install downloads libtensorflow, so it is often absent.
      const pkg = '@tensorflow/tfjs-node';
      await import(/* @vite-ignore */ pkg);
    } else if (name === 'wasm') {
      const wasm = (await import('@tensorflow/tfjs-backend-wasm')) as typeof import('@tensorflow/tfjs-backend-wasm');
      if (!wasmPathsSet) {
        // The .wasm binaries sit beside the package's main file; an absolute prefix makes loading
        // independent of the working directory and of bundlers.
        const dist = dirname(require.resolve('@tensorflow/tfjs-backend-wasm'));
        try {
          wasm.setWasmPaths(`${dist}/`);
        } catch {
          // Someone initialised the wasm backend earlier in this process: its paths stand.
        }
        wasmPathsSet = true;
      }
      patchWasmKernels(tf);
    } else {
      await import('@tensorflow/tfjs-backend-cpu');
    }
  } catch {
    return false;
  }
  // A second copy of tfjs-core (e.g. one bundled under tfjs-node) would register elsewhere.
  return tf.findBackendFactory(name) !== null;
}

async function start(): Promise<TfjsInfo> {
  const tf = await loadCore();
  // Silences tfjs's console banners ("install tfjs-node", kernel re-registration); PROD only
  // gates warnings and debug checks, not numerics.
  tf.env().set('PROD', true);
  const forced = process.env[TFJS_BACKEND_ENV]?.trim();
  if (forced) {
    if (!ORDER.includes(forced as TfjsBackendName)) {
      throw new UsageError(`${TFJS_BACKEND_ENV}='${forced}' is not a tfjs backend (known: ${ORDER.join(', ')})`);
    }
    if (!(await register(tf, forced as TfjsBackendName)) || !(await tf.setBackend(forced).catch(() => false))) {
      const hint = forced === 'tensorflow' ? ' (install @tensorflow/tfjs-node)' : '';
      throw new UsageError(`${TFJS_BACKEND_ENV}=${forced}: that tfjs backend could not be started${hint}`);
    }
  } else {
    let ok = false;
    for (const name of ORDER) {
      if ((await register(tf, name)) && (await tf.setBackend(name).catch(() => false))) {
        ok = true;
        break;
      }
    }
    if (!ok) throw new UsageError('no tfjs backend could be started (tried tensorflow, wasm, cpu)');
  }
  await tf.ready();
  return { backend: tf.getBackend(), tfjsVersion: tf.version_core };
}

/**
 * Picks and starts the tfjs backend once per process: tfjs-node when installed, else wasm, else
 * cpu (`BLAMEBOARD_TFJS_BACKEND` forces one). Later calls return the same result.
 */
export function initTfjs(): Promise<TfjsInfo> {
  if (!initPromise) {
    initPromise = start().catch((e: unknown) => {
      initPromise = null;
      throw e;
    });
  }
  return initPromise;
}

/** tfjs-core, with a backend started. */
export async function getTf(): Promise<Tf> {
  await initTfjs();
  return tfModule!;
}

/**
 * Makes sure another backend's kernels are registered (e.g. 'cpu' for work the wasm backend lacks
 * kernels for) without changing the active backend.
 */
export async function ensureBackend(name: TfjsBackendName): Promise<boolean> {
  const tf = await getTf();
  if (tf.findBackend(name)) return true;
  if (!(await register(tf, name))) return false;
  const active = tf.getBackend();
  const ok = await tf.setBackend(name).catch(() => false);
  await tf.setBackend(active);
  return ok;
}
