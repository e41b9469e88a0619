import type { Tensor } from '../tensor.js';
import type { Attribute, Dim, IrGraph, IrNode } from '../ir/types.js';
import type { GraphBuilder } from './types.js';

/** An extra graph output a rule asked for. */
export interface RegisteredOutput {
  valueName: string;
  outputName: string;
  requested: string;
  shape?: Dim[];
}

/**
 * GraphBuilder over a working copy of an IR graph: appends nodes and initializers to it and hands
 * out names that collide with nothing already in the graph. Emitted nodes reference only values
 * that exist when they are emitted, so appending keeps the graph topologically sorted.
 */
export class IrGraphBuilder implements GraphBuilder {
  readonly opsetVersion: number;
  readonly registeredOutputs: RegisteredOutput[] = [];
  private readonly used = new Set<string>();
  private readonly scalars = new Map<number, string>();
  private readonly int64Cache = new Map<string, string>();
  private counter = 0;

  constructor(readonly graph: IrGraph) {
    this.opsetVersion = graph.opsetVersion;
    for (const v of graph.inputs) this.used.add(v.name);
    for (const v of graph.outputs) this.used.add(v.name);
    for (const name of graph.initializers.keys()) this.used.add(name);
    for (const name of graph.values.keys()) this.used.add(name);
    for (const node of graph.nodes) {
      this.used.add(node.name);
      for (const n of node.inputs) if (n) this.used.add(n);
      for (const n of node.outputs) if (n) this.used.add(n);
    }
  }

  /** A name no value, initializer or node of the graph uses yet; reserves it. */
  fresh(hint: string): string {
    const base = hint.replace(/[^A-Za-z0-9_.:/-]/g, '_') || 'v';
    if (!this.used.has(base)) {
      this.used.add(base);
      return base;
    }
    let name: string;
    do name = `${base}_${++this.counter}`;
    while (this.used.has(name));
    this.used.add(name);
    return name;
  }

  /** Marks names as taken (values created outside the builder, e.g. the baseline pass). */
  reserve(name: string): void {
    this.used.add(name);
  }

  isTaken(name: string): boolean {
    return this.used.has(name);
  }

  op(opType: string, inputs: string[], attributes: Record<string, Attribute> = {}, outputCount = 1): string[] {
    const outputs = Array.from({ length: outputCount }, (_, i) => this.fresh(`bb_${opType}${outputCount > 1 ? `_${i}` : ''}`));
    this.addNode({ name: this.fresh(`bb_node_${opType}`), opType, domain: '', inputs, outputs, attributes });
    return outputs;
  }

  /** Appends an already named node (the compiler's own plumbing). */
  addNode(node: IrNode): void {
    for (const input of node.inputs) {
      if (input && !this.used.has(input)) throw new Error(`compiler: node ${node.name} (${node.opType}) reads unknown value '${input}'`);
    }
    this.used.add(node.name);
    for (const o of node.outputs) this.used.add(o);
    this.graph.nodes.push(node);
  }

  constant(value: Tensor, nameHint = 'bb_const'): string {
    const name = this.fresh(nameHint);
    this.graph.initializers.set(name, value);
    return name;
  }

  scalar(value: number): string {
    const key = Object.is(value, -0) ? 0 : value;
    let name = this.scalars.get(key);
    if (!name) {
      name = this.constant({ dtype: 'float32', shape: [], data: Float32Array.of(key) }, 'bb_scalar');
      this.scalars.set(key, name);
    }
    return name;
  }

  int64s(values: number[]): string {
    const key = values.join(',');
    let name = this.int64Cache.get(key);
    if (!name) {
      name = this.constant(
        { dtype: 'int64', shape: [values.length], data: BigInt64Array.from(values.map((v) => BigInt(v))) },
        'bb_ints',
      );
      this.int64Cache.set(key, name);
    }
    return name;
  }

  shapeOf(valueName: string): Dim[] {
    const init = this.graph.initializers.get(valueName);
    if (init) return [...init.shape];
    const v = this.graph.values.get(valueName) ?? this.graph.inputs.find((i) => i.name === valueName);
    if (!v) throw new Error(`compiler: no inferred shape for '${valueName}'`);
    return [...v.shape];
  }

  declareShape(valueName: string, shape: Dim[]): void {
    (this.graph.declared ??= []).push({ name: valueName, dtype: 'float32', shape: [...shape] });
  }

  initializer(valueName: string): Tensor | undefined {
    return this.graph.initializers.get(valueName);
  }

  output(valueName: string, outputName: string, shape?: Dim[]): string {
    const name = this.fresh(outputName);
    this.addNode({ name: this.fresh(`bb_out_${outputName}`), opType: 'Identity', domain: '', inputs: [valueName], outputs: [name], attributes: {} });
    const known = shape ?? (this.graph.values.has(valueName) ? this.shapeOf(valueName) : undefined);
    this.registeredOutputs.push({ valueName, outputName: name, requested: outputName, shape: known });
    return name;
  }
}
