import type * as TfCore from '@tensorflow/tfjs-core';

/** The tfjs-core namespace, as loaded at runtime (tfjs stays out of core's import-time cost). */
export type Tf = typeof TfCore;
