export * from './tensor.js';
export * from './rng.js';
export * from './errors.js';
export * from './params.js';
export type * from './ir/types.js';
export type * from './model.js';
export type * from './compiler/types.js';
