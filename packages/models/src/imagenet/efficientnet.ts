import type { IrGraph } from '@blameboard/core';
import { NetWriter } from './net-writer.js';
import type { ImagenetOptions } from './resnet.js';

/** torchvision's efficientnet_b0 stages: expand ratio, kernel, stride, in, out, repeats. */
const B0_STAGES: [expand: number, kernel: number, stride: number, input: number, output: number, repeats: number][] = [
  [1, 3, 1, 32, 16, 1],
  [6, 3, 2, 16, 24, 2],
  [6, 5, 2, 24, 40, 2],
  [6, 3, 2, 40, 80, 3],
  [6, 5, 1, 80, 112, 3],
  [6, 5, 2, 112, 192, 4],
  [6, 3, 1, 192, 320, 1],
];

/**
 * torchvision's efficientnet_b0, 5,267,540 parameters with 1000 classes (torchvision's 5,288,548
 * less one per folded BatchNorm channel): MBConv blocks with
 * depthwise convs, SiLU (x·σ(x)) and squeeze-excitation gates (x · σ(W₂ SiLU(W₁ mean(x)))),
 * exported as `torch.onnx.export` writes it (BatchNorms folded, SiLU as Sigmoid then Mul).
 */
export function efficientnetB0(opts: ImagenetOptions = {}): IrGraph {
  const size = opts.size ?? 224;
  const classes = opts.classes ?? 1000;
  const net = new NetWriter(opts.seed ?? 0);
  let x = net.silu(net.conv('input', 3, 32, 3, { stride: 2 }));
  for (const [expand, kernel, firstStride, input, output, repeats] of B0_STAGES) {
    for (let i = 0; i < repeats; i++) {
      const inChannels = i === 0 ? input : output;
      const stride = i === 0 ? firstStride : 1;
      const hidden = inChannels * expand;
      let h = expand === 1 ? x : net.silu(net.conv(x, inChannels, hidden, 1));
      h = net.silu(net.conv(h, hidden, hidden, kernel, { stride, group: hidden }));
      const squeeze = Math.max(1, Math.floor(inChannels / 4));
      const s = net.silu(net.conv(net.globalAveragePool(h), hidden, squeeze, 1));
      h = net.mul(h, net.sigmoid(net.conv(s, squeeze, hidden, 1)));
      h = net.conv(h, hidden, output, 1, { gain: stride === 1 && inChannels === output ? 0.2 : 1 });
      x = stride === 1 && inChannels === output ? net.add(h, x) : h;
    }
  }
  x = net.silu(net.conv(x, 320, 1280, 1));
  x = net.flatten(net.globalAveragePool(x));
  net.linear(x, 1280, classes);
  return net.finish('efficientnet_b0', 'input', 'logits', [3, size, size]);
}
