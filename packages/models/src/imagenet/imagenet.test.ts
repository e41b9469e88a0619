import { createHash } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { disposeSessions, forward, Rng, type IrGraph, type Tensor } from '@blameboard/core';
import { efficientnetB0, imagenetModel, mobilenetV2, resnet50 } from './index.js';

afterAll(() => disposeSessions());

const parameters = (g: IrGraph) => [...g.initializers.values()].reduce((n, t) => n + t.data.length, 0);
const opCounts = (g: IrGraph) => g.nodes.reduce<Record<string, number>>((c, n) => ((c[n.opType] = (c[n.opType] ?? 0) + 1), c), {});
const weightsHash = (g: IrGraph) => {
  const h = createHash('sha256');
  for (const t of g.initializers.values()) h.update(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength));
  return h.digest('hex');
};

describe('ImageNet architectures with random weights', () => {
  it('resnet50 has torchvision’s layers and parameters (BatchNorm folded: one bias per BN channel)', () => {
    const g = resnet50({ size: 64 });
    // torchvision resnet50: 25,557,032 parameters, of which 53,120 are BatchNorm γ and β (26,560 channels).
    expect(parameters(g)).toBe(25_557_032 - 26_560);
    expect(opCounts(g)).toEqual({ Conv: 53, Relu: 49, MaxPool: 1, Add: 16, GlobalAveragePool: 1, Flatten: 1, Gemm: 1 });
    expect(g.outputs[0].shape).toEqual(['N', 1000]);
    expect(g.values.get(g.nodes.find((n) => n.opType === 'GlobalAveragePool')!.outputs[0])!.shape).toEqual(['N', 2048, 1, 1]);
  });

  it('efficientnet_b0 has torchvision’s MBConv blocks, SiLU as x·σ(x) and squeeze-excitation gates', () => {
    const g = efficientnetB0({ size: 64 });
    // torchvision efficientnet_b0: 5,288,548 parameters, 42,016 of them BatchNorm γ and β.
    expect(parameters(g)).toBe(5_288_548 - 21_008);
    const ops = opCounts(g);
    // 16 blocks: 16 depthwise + 15 expand + 16 project + 32 SE convs, stem and head.
    expect(ops.Conv).toBe(81);
    expect(ops.Add).toBe(9);
    expect(ops.Sigmoid).toBe(65); // 49 SiLU (stem, 15 expand, 16 depthwise, 16 SE, head) + 16 gates
    expect(ops.Mul).toBe(65);
    expect(g.nodes.filter((n) => n.opType === 'Conv' && n.attributes.group?.value !== 1)).toHaveLength(16);
  });

  it('mobilenet_v2 has torchvision’s inverted residual blocks, ReLU6 as Clip(x, 0, 6)', () => {
    const g = mobilenetV2({ size: 64 });
    // torchvision mobilenet_v2: 3,504,872 parameters, 34,112 of them BatchNorm γ and β (17,056 channels).
    expect(parameters(g) - 2).toBe(3_504_872 - 17_056); // less the two Clip bounds
    expect(opCounts(g)).toEqual({ Conv: 52, Clip: 35, Add: 10, GlobalAveragePool: 1, Flatten: 1, Gemm: 1 });
    expect(g.nodes.filter((n) => n.opType === 'Conv' && n.attributes.group?.value !== 1)).toHaveLength(17);
    const clip = g.nodes.find((n) => n.opType === 'Clip')!;
    expect([...g.initializers.get(clip.inputs[1])!.data, ...g.initializers.get(clip.inputs[2])!.data]).toEqual([0, 6]);
  });

  it('is the same model for the same seed and another for another seed', () => {
    expect(weightsHash(efficientnetB0({ size: 32 }))).toBe(weightsHash(efficientnetB0({ size: 32 })));
    expect(weightsHash(efficientnetB0({ size: 32, seed: 1 }))).not.toBe(weightsHash(efficientnetB0({ size: 32 })));
  });

  it('loads as users’ models do, every operator in the IR, and gives finite logits that depend on the input', async () => {
    for (const id of ['resnet50', 'efficientnet_b0', 'mobilenet_v2']) {
      const model = await imagenetModel(id, { size: 64 });
      expect(model.graph).not.toBeNull();
      expect(model.inputShape).toEqual([3, 64, 64]);
      expect(model.outputSize).toBe(1000);
      const x: Tensor = { dtype: 'float32', shape: [2, 3, 64, 64], data: new Rng(3).fillUniform(new Float32Array(2 * 3 * 64 * 64)) as Float32Array };
      const y = (await forward(model, x)).data as Float32Array;
      expect(y.every(Number.isFinite)).toBe(true);
      const spread = Math.max(...y.subarray(0, 1000)) - Math.min(...y.subarray(0, 1000));
      expect(spread).toBeGreaterThan(1e-3);
      expect(Array.from(y.subarray(0, 1000))).not.toEqual(Array.from(y.subarray(1000)));
    }
  });
});
