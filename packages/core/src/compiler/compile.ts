import { UnsupportedOperatorError, type UnsupportedOp } from '../errors.js';
import type { IrGraph, IrNode, IrValue } from '../ir/types.js';
import { inferShapes } from '../ir/shape-inference.js';
import { IrGraphBuilder } from './builder.js';
import { dependentsOf, linearLayers, nodesBetween, placeNearProducers, pruneUnused } from './graph-walk.js';
import { upgradeOpset } from '../ir/upgrade-opset.js';
import type { BackwardRule, CompileOptions, CompiledGraph, RuleSet } from './types.js';

/**
 * Compiles a forward graph and a rule set into one ONNX-ready graph that computes the forward
 * pass and, in the same run, the backward pass of the rules: inputs x, `seed` [N, C] (and
 * `baseline`), outputs `attribution`, any extra outputs of the rules, and the logits.
 */
export function compileExplanation(graph: IrGraph, rules: RuleSet, opts: CompileOptions): CompiledGraph {
  const g = upgradeOpset(graph);
  if (g.inputs.length !== 1) throw new Error(`compiler: the graph must have exactly one input, it has ${g.inputs.length}`);
  if (g.outputs.length < 1) throw new Error('compiler: the graph has no output');
  const xName = g.inputs[0].name;
  const logitsValue = g.outputs[0];
  const logitsName = logitsValue.name;
  const forwardNodes = [...g.nodes];
  const b = new IrGraphBuilder(g);

  const start = opts.attributionOf ?? xName;
  if (start !== xName && !g.values.has(start)) throw new Error(`compiler: attributionOf names no value of the graph: '${start}'`);
  const path = nodesBetween(g, start, logitsName);
  const linear = linearLayers(g);
  const linearIndexOf = new Map<IrNode, number>(linear.map((n, i) => [n, i]));

  const chosen = chooseRules(path, rules, linearIndexOf, linear.length, g);

  const seed = b.fresh('seed');
  g.inputs.push({ name: seed, dtype: 'float32', shape: [...logitsValue.shape] });

  let baselineInput: string | undefined;
  let baselineValue: ((name: string) => string) | undefined;
  if (opts.withBaseline) {
    baselineInput = b.fresh('baseline');
    g.inputs.push({ name: baselineInput, dtype: g.inputs[0].dtype, shape: [...g.inputs[0].shape] });
    const renamed = emitBaselinePass(b, forwardNodes, xName, baselineInput);
    baselineValue = (name) => renamed.get(name) ?? name;
  }

  const signals = new Map<string, string[]>();
  const push = (value: string, signal: string) => {
    const list = signals.get(value);
    if (list) list.push(signal);
    else signals.set(value, [signal]);
  };
  // Sums the contributions of every consumer: the chain rule for a value used several times.
  const collect = (value: string): string | null => {
    const list = signals.get(value);
    if (!list || list.length === 0) return null;
    if (list.length === 1) return list[0];
    const [sum] = b.op('Sum', list);
    signals.set(value, [sum]);
    return sum;
  };
  const zerosLike = (value: string): string => {
    const [shape] = b.op('Shape', [value]);
    return b.op('ConstantOfShape', [shape])[0];
  };

  push(logitsName, opts.start === 'seed-input' ? seed : b.op('Mul', [seed, logitsName])[0]);

  const fromStart = dependentsOf(g, start);
  for (let k = path.length - 1; k >= 0; k--) {
    const node = path[k];
    const arriving = node.outputs.map((o) => collect(o));
    if (arriving.every((s) => s === null)) continue;
    const upstream = node.outputs.map((o, i) => {
      const s = arriving[i];
      if (s !== null) return s;
      const dtype = g.values.get(o)?.dtype ?? 'float32';
      return o && dtype === 'float32' ? zerosLike(o) : '';
    });
    const linearIndex = linearIndexOf.get(node) ?? null;
    const send = (value: string, signal: string) => {
      if (fromStart.has(value)) push(value, signal);
    };
    const flows = chosen.get(node)!({ node, graph: g, b, upstream, baselineValue, send, linearIndex, linearCount: linear.length });
    node.inputs.forEach((input, i) => {
      const s = flows[i];
      if (s && input && fromStart.has(input)) push(input, s);
    });
  }

  const attributionSignal = collect(start) ?? zerosLike(start);
  const outputs: IrValue[] = [];
  const attribution = b.fresh('attribution');
  b.addNode({ name: b.fresh('bb_out_attribution'), opType: 'Identity', domain: '', inputs: [attributionSignal], outputs: [attribution], attributes: {} });
  outputs.push({ name: attribution, dtype: 'float32', shape: b.shapeOf(start) });

  const extraOutputs: Record<string, string> = {};
  const inferred = b.registeredOutputs.some((r) => !r.shape) ? inferAll(g) : new Map<string, IrValue>();
  for (const r of b.registeredOutputs) {
    extraOutputs[r.requested] = r.outputName;
    const shape = r.shape ?? inferred.get(r.outputName)?.shape;
    if (!shape) throw new Error(`compiler: cannot infer the shape of extra output '${r.requested}'; pass it to GraphBuilder.output`);
    outputs.push({ name: r.outputName, dtype: 'float32', shape });
  }
  outputs.push(logitsValue);
  let baselineLogits: string | undefined;
  if (baselineValue) {
    baselineLogits = b.fresh('baseline_logits');
    b.addNode({ name: b.fresh('bb_out_baseline_logits'), opType: 'Identity', domain: '', inputs: [baselineValue(logitsName)], outputs: [baselineLogits], attributes: {} });
    outputs.push({ name: baselineLogits, dtype: 'float32', shape: [...logitsValue.shape] });
  }
  g.outputs = outputs;
  g.name = `${graph.name || 'model'}_explained`;
  pruneUnused(g);
  placeNearProducers(g, [seed]);

  return {
    graph: g,
    inputNames: { input: xName, seed, ...(baselineInput ? { baseline: baselineInput } : {}) },
    outputNames: outputs.map((o) => o.name),
    logits: logitsName,
    ...(baselineLogits ? { baselineLogits } : {}),
    extraOutputs,
  };
}

/** Shapes of every value of the compiled graph, as far as shape inference knows its ops. */
function inferAll(g: IrGraph): Map<string, IrValue> {
  const scratch: IrGraph = { ...g, outputs: [], values: new Map() };
  try {
    inferShapes(scratch);
  } catch {
    // An op shape inference cannot follow only leaves its outputs unknown.
  }
  return scratch.values;
}

/** Asks the rule set for every node first, so that one error lists every operator it lacks. */
function chooseRules(path: IrNode[], rules: RuleSet, linearIndexOf: Map<IrNode, number>, linearCount: number, graph: IrGraph): Map<IrNode, BackwardRule> {
  const chosen = new Map<IrNode, BackwardRule>();
  const missing: UnsupportedOp[] = [];
  const refusals: UnsupportedOperatorError[] = [];
  for (const node of path) {
    try {
      const rule = rules.ruleFor(node, linearIndexOf.get(node) ?? null, linearCount, graph);
      if (rule) chosen.set(node, rule);
      else missing.push({ opType: node.opType, name: node.name });
    } catch (e) {
      if (!(e instanceof UnsupportedOperatorError)) throw e;
      missing.push(...e.ops);
      refusals.push(e);
    }
  }
  if (missing.length === 0) return chosen;
  // A single refusal keeps the rule set's own wording (it may say why); several are merged.
  if (refusals.length === 1 && refusals[0].ops.length === missing.length) throw refusals[0];
  throw new UnsupportedOperatorError(missing, 'no backward rule for');
}

/** Re-emits every node that depends on x, reading `baseline` instead; returns the renaming. */
function emitBaselinePass(b: IrGraphBuilder, forwardNodes: IrNode[], xName: string, baselineInput: string): Map<string, string> {
  const renamed = new Map<string, string>([[xName, baselineInput]]);
  const values = b.graph.values;
  for (const node of forwardNodes) {
    if (!node.inputs.some((i) => renamed.has(i))) continue;
    const outputs = node.outputs.map((o) => {
      if (!o) return o;
      const name = b.fresh(`${o}__baseline`);
      renamed.set(o, name);
      const v = values.get(o);
      if (v) values.set(name, { ...v, name, shape: [...v.shape] });
      return name;
    });
    b.addNode({
      ...node,
      name: b.fresh(`${node.name || node.opType}__baseline`),
      inputs: node.inputs.map((i) => renamed.get(i) ?? i),
      outputs,
      attributes: { ...node.attributes },
    });
  }
  return renamed;
}
