// Preloaded (`node --import …/first-run-hook.mjs cli.js …`): prints, on stderr, the time from
// process start to the first onnxruntime `run` of the process (`pnpm perf --startup`).
import { createRequire } from 'node:module';

const require = createRequire(new URL('../../../packages/core/package.json', import.meta.url));
const ort = require('onnxruntime-node');
const proto = ort.InferenceSession.prototype;
const run = proto.run;
let seen = false;
proto.run = function (...args) {
  if (!seen) {
    seen = true;
    process.stderr.write(`first onnxruntime run at ${performance.now().toFixed(0)} ms\n`);
  }
  return run.apply(this, args);
};
