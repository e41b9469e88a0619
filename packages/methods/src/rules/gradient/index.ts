import type { BackwardRule, IrNode, RuleSet } from '@blameboard/core';
import { intAttr, unsupported } from '../attributes.js';
import { ACTIVATIONS, activationGradient } from './activation.js';
import { addGradient, divGradient, mulGradient, negGradient, subGradient, sumGradient } from './arithmetic.js';
import { batchNormGradient, checkBatchNorm } from './batchnorm.js';
import { concatGradient } from './concat.js';
import { convGradient, convTransposeGradient } from './conv.js';
import { gemmGradient, matMulGradient } from './dense.js';
import { checkPad, padGradient } from './pad.js';
import {
  averagePoolGradient,
  checkAveragePool,
  checkMaxPool,
  globalAveragePoolGradient,
  globalMaxPoolGradient,
  maxPoolGradient,
} from './pool.js';
import { reluMaxPoolGradients } from './relu-maxpool.js';
import { resizeGradient } from './resize.js';
import { siluMulGradient } from './silu.js';
import { identityGradient, reduceMeanGradient, reshapeGradient, sliceGradient, splitGradient, transposeGradient } from './shape.js';
import { logSoftmaxGradient, softmaxGradient } from './softmax.js';

/** The vector–Jacobian product of each supported operator, by op type. */
export const GRADIENT_RULES: Readonly<Record<string, BackwardRule>> = {
  Conv: convGradient,
  ConvTranspose: convTransposeGradient,
  Gemm: gemmGradient,
  MatMul: matMulGradient,
  Add: addGradient,
  Sub: subGradient,
  Mul: mulGradient,
  Div: divGradient,
  Sum: sumGradient,
  Neg: negGradient,
  ...Object.fromEntries(ACTIVATIONS.map((op) => [op, activationGradient])),
  MaxPool: maxPoolGradient,
  AveragePool: averagePoolGradient,
  GlobalAveragePool: globalAveragePoolGradient,
  GlobalMaxPool: globalMaxPoolGradient,
  BatchNormalization: batchNormGradient,
  Flatten: reshapeGradient,
  Reshape: reshapeGradient,
  Squeeze: reshapeGradient,
  Unsqueeze: reshapeGradient,
  Transpose: transposeGradient,
  Concat: concatGradient,
  Pad: padGradient,
  Slice: sliceGradient,
  Split: splitGradient,
  ReduceMean: reduceMeanGradient,
  Resize: resizeGradient,
  Identity: identityGradient,
  Dropout: identityGradient,
  Cast: identityGradient,
  Softmax: softmaxGradient,
  LogSoftmax: logSoftmaxGradient,
};

/** Configurations a rule cannot handle, refused before anything is emitted. */
const CHECKS: Record<string, (node: IrNode) => void> = {
  Cast: checkFloatCast,
  MaxPool: checkMaxPool,
  AveragePool: checkAveragePool,
  BatchNormalization: checkBatchNorm,
  Pad: checkPad,
};

/** A Cast on the signal's path must stay a float: rounding to an integer has no gradient. */
function checkFloatCast(node: IrNode): void {
  const to = intAttr(node, 'to', 1);
  if (to !== 1 && to !== 10 && to !== 11 && to !== 16) throw unsupported(node, 'a cast of the signal to a non-float type');
}

/** Looks a node up in a table of rules, refusing foreign domains and unchecked configurations. */
export function ruleFromTable(table: Readonly<Record<string, BackwardRule>>, node: IrNode): BackwardRule {
  if (node.domain !== '' && node.domain !== 'ai.onnx') throw unsupported(node, `domain '${node.domain}'`);
  const rule = table[node.opType];
  if (!rule) throw unsupported(node, 'operator not in the rule table');
  CHECKS[node.opType]?.(node);
  return rule;
}

/**
 * Plain autodiff: every node passes the vector–Jacobian product of its operator (ReLU → MaxPool
 * as a pair, x·σ(x) as one activation, unless `overrides` replaces the rules involved).
 */
export function gradientRules(overrides: Readonly<Record<string, BackwardRule>> = {}): RuleSet {
  const pair = overrides.Relu || overrides.MaxPool ? {} : reluMaxPoolGradients();
  const silu: Record<string, BackwardRule> = overrides.Mul || overrides.Sigmoid ? {} : { Mul: siluMulGradient };
  const table = { ...GRADIENT_RULES, ...pair, ...silu, ...overrides };
  return { ruleFor: (node) => ruleFromTable(table, node) };
}
