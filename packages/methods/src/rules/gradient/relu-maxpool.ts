import type { BackwardRule, IrGraph } from '@blameboard/core';
import { activationGradient } from './activation.js';
import { maxPoolGradient } from './pool.js';

/**
 * ReLU → MaxPool differentiated as a pair. The pool sends each window's signal to the window's
 * argmax, where the ReLU's output is the window's maximum m, so ReLU′ there is [m > 0]: the mask
 * can be applied to the pooled signal (a quarter of the elements under a 2×2 pool) before it is
 * spread out, and the ReLU then passes a signal that reaches it from such a pool alone unchanged.
 * Exact, not an approximation: it saves the full-size mask and multiply of the ReLU.
 *
 * The two rules must be used together (a MaxPool rule that did not mask would make the ReLU's
 * pass-through wrong), so they come as a pair with their own bookkeeping per compiled graph.
 */
export function reluMaxPoolGradients(): { Relu: BackwardRule; MaxPool: BackwardRule } {
  // Signals the pool rule already masked, per compiled graph (the compiler's working copy).
  const masked = new WeakMap<IrGraph, Set<string>>();
  const MaxPool: BackwardRule = (ctx) => {
    const { node, graph, b, upstream } = ctx;
    const producer = graph.nodes.find((n) => n.outputs.includes(node.inputs[0]));
    if (producer?.opType !== 'Relu' || (producer.domain !== '' && producer.domain !== 'ai.onnx')) return maxPoolGradient(ctx);
    const positive = b.op('Cast', [b.op('Greater', [node.outputs[0], b.scalar(0)])[0]], { to: { type: 'int', value: 1 } })[0];
    const gated = b.op('Mul', [upstream[0], positive])[0];
    const [signal] = maxPoolGradient({ ...ctx, upstream: [gated, ...upstream.slice(1)] });
    if (!signal) return [signal];
    let set = masked.get(graph);
    if (!set) masked.set(graph, (set = new Set()));
    set.add(signal);
    return [signal];
  };
  // `upstream[0]` is the pool's own signal only when nothing else was summed into it.
  const Relu: BackwardRule = (ctx) => (masked.get(ctx.graph)?.has(ctx.upstream[0]) ? [ctx.upstream[0]] : activationGradient(ctx));
  return { Relu, MaxPool };
}
