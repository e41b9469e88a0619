import type { IrGraph } from '@blameboard/core';
import { NetWriter } from './net-writer.js';

export interface ImagenetOptions {
  /** Side of the square input image (224 as trained; smaller sizes make cheap test graphs). */
  size?: number;
  /** Seed of the random weights. */
  seed?: number;
  classes?: number;
}

/**
 * torchvision's resnet50 (v1.5: the stride sits on the bottleneck's 3×3 conv) with its
 * BatchNorms folded into the convs, as `torch.onnx.export` writes it: 25,530,472 parameters with
 * 1000 classes (torchvision's 25,557,032 less one per BatchNorm channel: γ and β become one bias).
 */
export function resnet50(opts: ImagenetOptions = {}): IrGraph {
  const size = opts.size ?? 224;
  const classes = opts.classes ?? 1000;
  const net = new NetWriter(opts.seed ?? 0);
  let x = net.relu(net.conv('input', 3, 64, 7, { stride: 2 }));
  x = net.maxPool(x, 3, 2, 1);
  let channels = 64;
  const stages: [width: number, blocks: number, stride: number][] = [
    [64, 3, 1],
    [128, 4, 2],
    [256, 6, 2],
    [512, 3, 2],
  ];
  for (const [width, blocks, firstStride] of stages) {
    for (let i = 0; i < blocks; i++) {
      const stride = i === 0 ? firstStride : 1;
      const out = width * 4;
      let h = net.relu(net.conv(x, channels, width, 1));
      h = net.relu(net.conv(h, width, width, 3, { stride }));
      h = net.conv(h, width, out, 1, { gain: 0.2 });
      const shortcut = stride !== 1 || channels !== out ? net.conv(x, channels, out, 1, { stride }) : x;
      x = net.relu(net.add(h, shortcut));
      channels = out;
    }
  }
  x = net.flatten(net.globalAveragePool(x));
  net.linear(x, channels, classes);
  return net.finish('resnet50', 'input', 'logits', [3, size, size]);
}
