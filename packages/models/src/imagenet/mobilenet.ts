import type { IrGraph } from '@blameboard/core';
import { NetWriter } from './net-writer.js';
import type { ImagenetOptions } from './resnet.js';

/** torchvision's mobilenet_v2 inverted-residual settings: expand ratio, output channels, repeats, first stride. */
const V2_STAGES: [expand: number, output: number, repeats: number, stride: number][] = [
  [1, 16, 1, 1],
  [6, 24, 2, 2],
  [6, 32, 3, 2],
  [6, 64, 4, 2],
  [6, 96, 3, 1],
  [6, 160, 3, 2],
  [6, 320, 1, 1],
];

/**
 * torchvision's mobilenet_v2, 3,487,816 parameters with 1000 classes (torchvision's 3,504,872
 * less one per folded BatchNorm channel): inverted residual blocks (1×1 expand, 3×3 depthwise,
 * 1×1 linear projection) with ReLU6, exported as `torch.onnx.export` writes it at opset 13
 * (BatchNorms folded, ReLU6 as Clip(x, 0, 6), dropout gone).
 */
export function mobilenetV2(opts: ImagenetOptions = {}): IrGraph {
  const size = opts.size ?? 224;
  const classes = opts.classes ?? 1000;
  const net = new NetWriter(opts.seed ?? 0);
  let channels = 32;
  let x = net.relu6(net.conv('input', 3, channels, 3, { stride: 2 }));
  for (const [expand, output, repeats, firstStride] of V2_STAGES) {
    for (let i = 0; i < repeats; i++) {
      const stride = i === 0 ? firstStride : 1;
      const hidden = channels * expand;
      let h = expand === 1 ? x : net.relu6(net.conv(x, channels, hidden, 1));
      h = net.relu6(net.conv(h, hidden, hidden, 3, { stride, group: hidden }));
      const residual = stride === 1 && channels === output;
      h = net.conv(h, hidden, output, 1, { gain: residual ? 0.2 : 1 });
      x = residual ? net.add(x, h) : h;
      channels = output;
    }
  }
  x = net.relu6(net.conv(x, channels, 1280, 1));
  x = net.flatten(net.globalAveragePool(x));
  net.linear(x, 1280, classes);
  return net.finish('mobilenet_v2', 'input', 'logits', [3, size, size]);
}
