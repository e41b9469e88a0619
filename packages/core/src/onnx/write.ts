import type { Attribute, Dim, IrGraph, IrNode, IrValue } from '../ir/types.js';
import { UNKNOWN_DIM } from '../ir/shape-inference.js';
import { AttributeType, ModelProto, type OnnxModelProto } from './onnx.proto.js';
import { dtypeToOnnx, tensorToProto } from './tensor-proto.js';

/** IR version written when a graph built in memory does not say (onnxruntime 1.30 reads up to 11). */
export const DEFAULT_IR_VERSION = 8;

/**
 * Serialises an IR graph as an ONNX model (weights as raw_data, inline). Reading the result
 * gives back a deep-equal IR graph.
 */
export function writeOnnx(graph: IrGraph): Uint8Array {
  return encodeModel(modelFromIr(graph));
}

export function encodeModel(model: OnnxModelProto | Record<string, unknown>): Uint8Array {
  return ModelProto.encode(model as never).finish();
}

export function modelFromIr(graph: IrGraph): Record<string, unknown> {
  const domains = new Set(graph.nodes.map((n) => n.domain).filter((d) => d !== '' && d !== 'ai.onnx'));
  return {
    ir_version: graph.irVersion || DEFAULT_IR_VERSION,
    producer_name: graph.producerName,
    opset_import: [{ domain: '', version: graph.opsetVersion }, ...[...domains].map((domain) => ({ domain, version: 1 }))],
    graph: {
      name: graph.name,
      node: graph.nodes.map(nodeToProto),
      initializer: [...graph.initializers].map(([name, t]) => tensorToProto(name, t)),
      input: graph.inputs.map(valueInfo),
      output: graph.outputs.map(valueInfo),
      ...(graph.declared?.length ? { value_info: declaredValues(graph).map(valueInfo) } : {}),
    },
  };
}

/** Declared shapes of values some node still produces (passes may have pruned the rest). */
function declaredValues(graph: IrGraph): IrValue[] {
  const produced = new Set(graph.nodes.flatMap((n) => n.outputs));
  return (graph.declared ?? []).filter((v) => produced.has(v.name));
}

function valueInfo(v: IrValue): Record<string, unknown> {
  return {
    name: v.name,
    type: { tensor_type: { elem_type: dtypeToOnnx(v.dtype), shape: { dim: v.shape.map(dimToProto) } } },
  };
}

function dimToProto(d: Dim): Record<string, unknown> {
  if (typeof d === 'number') return { dim_value: d };
  return d === UNKNOWN_DIM ? {} : { dim_param: d };
}

function nodeToProto(n: IrNode): Record<string, unknown> {
  return {
    name: n.name,
    op_type: n.opType,
    domain: n.domain,
    input: n.inputs,
    output: n.outputs,
    attribute: Object.entries(n.attributes).map(([name, a]) => attributeToProto(name, a)),
  };
}

const utf8 = new TextEncoder();

function attributeToProto(name: string, a: Attribute): Record<string, unknown> {
  switch (a.type) {
    case 'float': return { name, type: AttributeType.FLOAT, f: a.value };
    case 'int': return { name, type: AttributeType.INT, i: a.value };
    case 'string': return { name, type: AttributeType.STRING, s: utf8.encode(a.value) };
    case 'tensor': return { name, type: AttributeType.TENSOR, t: tensorToProto('', a.value) };
    case 'floats': return { name, type: AttributeType.FLOATS, floats: a.value };
    case 'ints': return { name, type: AttributeType.INTS, ints: a.value };
    case 'strings': return { name, type: AttributeType.STRINGS, strings: a.value.map((s) => utf8.encode(s)) };
  }
}
