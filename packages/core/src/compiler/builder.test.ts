import { describe, expect, it } from 'vitest';
import type { IrGraph } from '../ir/types.js';
import { ModelProto, type OnnxModelProto } from '../onnx/onnx.proto.js';
import { writeOnnx } from '../onnx/write.js';
import { IrGraphBuilder } from './builder.js';

function graph(): IrGraph {
  return {
    name: 'g',
    irVersion: 8,
    opsetVersion: 17,
    producerName: 't',
    inputs: [{ name: 'x', dtype: 'float32', shape: ['N', 3] }],
    outputs: [{ name: 'y', dtype: 'float32', shape: ['N', 3] }],
    initializers: new Map([['bb_scalar', { dtype: 'float32', shape: [], data: Float32Array.of(9) }]]),
    nodes: [{ name: 'relu', opType: 'Relu', domain: '', inputs: ['x'], outputs: ['y'], attributes: {} }],
    values: new Map([['y', { name: 'y', dtype: 'float32', shape: ['N', 3] }]]),
  };
}

describe('IrGraphBuilder', () => {
  it('hands out names no value, initializer or node already uses', () => {
    const b = new IrGraphBuilder(graph());
    const names = [b.fresh('y'), b.fresh('relu'), b.fresh('x'), b.fresh('y')];
    expect(new Set(names).size).toBe(4);
    for (const n of names) expect(['x', 'y', 'relu']).not.toContain(n);
  });

  it('caches scalar and int64 constants by value, next to existing initializers', () => {
    const g = graph();
    const b = new IrGraphBuilder(g);
    const one = b.scalar(1);
    expect(b.scalar(1)).toBe(one);
    expect(b.scalar(2)).not.toBe(one);
    expect(one).not.toBe('bb_scalar'); // the model's own initializer keeps its name and value
    expect(Array.from(g.initializers.get('bb_scalar')!.data as Float32Array)).toEqual([9]);
    expect(b.int64s([1, -1])).toBe(b.int64s([1, -1]));
    expect(g.initializers.get(b.int64s([1, -1]))!.data).toEqual(BigInt64Array.of(1n, -1n));
  });

  it('appends nodes in order and refuses reads of values that do not exist yet', () => {
    const g = graph();
    const b = new IrGraphBuilder(g);
    const [z] = b.op('Neg', ['y']);
    b.op('Add', [z, 'x']);
    expect(g.nodes.map((n) => n.opType)).toEqual(['Relu', 'Neg', 'Add']);
    expect(() => b.op('Add', ['nowhere', 'x'])).toThrow(/unknown value 'nowhere'/);
  });

  it('knows forward shapes and registers extra outputs with them', () => {
    const b = new IrGraphBuilder(graph());
    expect(b.shapeOf('y')).toEqual(['N', 3]);
    expect(b.shapeOf('x')).toEqual(['N', 3]);
    const name = b.output('y', 'copy');
    expect(b.registeredOutputs).toEqual([{ valueName: 'y', outputName: name, requested: 'copy', shape: ['N', 3] }]);
  });

  it('writes declared shapes as value_info, for values a node still produces', () => {
    const g = graph();
    const b = new IrGraphBuilder(g);
    const [z] = b.op('Neg', ['y']);
    b.declareShape(z, ['N', 3]);
    b.declareShape('pruned', ['N', 3]);
    const model = ModelProto.decode(writeOnnx(g)) as unknown as OnnxModelProto;
    expect(model.graph!.value_info.map((v) => v.name)).toEqual([z]);
    expect(model.graph!.value_info[0].type?.tensor_type?.shape?.dim?.map((d) => d.dim_param || Number(d.dim_value))).toEqual(['N', 3]);
  });
});
