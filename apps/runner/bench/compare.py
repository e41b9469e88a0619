"""The PyTorch side of `pnpm perf --compare` (apps/runner/bench/compare.ts): one whole process that
does what a Captum / Zennit user's script does, in plain torch autograd.

- gradient, integrated-gradients (Gauss-Legendre, Captum's default), smoothgrad: plain autograd,
  exactly the arithmetic Captum adds on top of it (Captum adds almost nothing);
- lrp: an EQUIVALENT of Zennit 0.5.1's EpsilonPlus / EpsilonGammaBox written out here as rule
  hooks in Zennit's own style (each rule re-runs its layer with modified inputs/parameters in the
  backward pass and takes torch.autograd.grad of those): Zennit itself has no Debian package
  and no PyPI access here. It is NOT Zennit: residual sums get the plain gradient instead of
  Zennit's Norm rule and BatchNorms are fused into their convs by torch's own fuse_conv_bn_eval
  (Zennit's canonizer does the same merge). Its cost is Zennit's: the same modified forwards
  and gradients per layer.

Models: mnist-cnn with the zoo model's own weights (--weights, a folder of .npy the driver writes);
resnet50 / efficientnet_b0 / mobilenet_v2 from torchvision with seeded random weights (not
Blameboard's weights: the timings do not depend on them), in eval mode with their BatchNorms, as a
user has them.

Needs python3-torch and python3-torchvision (Debian: apt-get install -y python3-torch
python3-torchvision); run with /usr/bin/python3.
"""
import argparse
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F


def mnist_cnn(weights):
    m = nn.Sequential(
        nn.Conv2d(1, 16, 5), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(16, 32, 5), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(512, 64), nn.ReLU(), nn.Linear(64, 10),
    )
    w = {f'{n}.{k}': np.load(f'{weights}/{n}.{k}.npy') for n in ('conv1', 'conv2', 'fc1', 'fc2') for k in ('weight', 'bias')}
    names = {0: 'conv1', 3: 'conv2', 7: 'fc1', 9: 'fc2'}
    with torch.no_grad():
        for i, name in names.items():
            m[i].weight.copy_(torch.from_numpy(w[f'{name}.weight']))
            m[i].bias.copy_(torch.from_numpy(w[f'{name}.bias']))
    return m


def build(name, weights, seed):
    torch.manual_seed(seed)
    if name == 'mnist-cnn':
        m = mnist_cnn(weights)
    else:
        import torchvision
        m = getattr(torchvision.models, name)()
    m.eval()
    for mod in m.modules():
        if hasattr(mod, 'inplace'):
            mod.inplace = False
    return m


def target_logit(out, targets):
    return out.gather(1, targets[:, None]).sum()


def gradients(model, x, targets):
    x = x.detach().requires_grad_(True)
    (g,) = torch.autograd.grad(target_logit(model(x), targets), x)
    return g


def run_gradient(model, x, targets, batch, args):
    return torch.cat([gradients(model, x[i:i + batch], targets[i:i + batch]) for i in range(0, len(x), batch)])


def run_ig(model, x, targets, batch, args):
    # Captum's IntegratedGradients(method='gausslegendre', baseline zeros), rows of (sample, step)
    # in chunks of `batch` (Captum's internal_batch_size).
    nodes, weights = np.polynomial.legendre.leggauss(args.steps)
    alphas = torch.tensor(0.5 * (nodes + 1), dtype=torch.float32)
    w = torch.tensor(0.5 * weights, dtype=torch.float32)
    n, steps = len(x), args.steps
    baseline = torch.zeros_like(x)
    total = torch.zeros_like(x)
    rows = n * steps
    for start in range(0, rows, batch):
        idx = torch.arange(start, min(start + batch, rows))
        s, k = idx // steps, idx % steps
        a = alphas[k].view(-1, *([1] * (x.dim() - 1)))
        xs = baseline[s] + a * (x[s] - baseline[s])
        g = gradients(model, xs, targets[s])
        total.index_add_(0, s, g * w[k].view_as(a))
    return (x - baseline) * total


def run_smoothgrad(model, x, targets, batch, args):
    # Captum's NoiseTunnel(Saliency, nt_type='smoothgrad') with σ = noise · (max − min) per sample.
    n, samples = len(x), args.samples
    flat = x.view(n, -1)
    sigma = args.noise * (flat.max(1).values - flat.min(1).values)
    total = torch.zeros_like(x)
    gen = torch.Generator().manual_seed(args.seed)
    rows = n * samples
    for start in range(0, rows, batch):
        idx = torch.arange(start, min(start + batch, rows))
        s = idx // samples
        noise = torch.randn((len(idx), *x.shape[1:]), generator=gen) * sigma[s].view(-1, *([1] * (x.dim() - 1)))
        total.index_add_(0, s, gradients(model, x[s] + noise, targets[s]))
    return total / samples


# ---- LRP: Zennit-style rule hooks (an equivalent of Zennit 0.5.1, see the module docstring) ----

def stabilize(z, eps=1e-6):
    return z + ((z == 0.).to(z) + z.sign()) * eps


def layer_fn(module, weight, bias):
    if isinstance(module, nn.Conv2d):
        return lambda x: F.conv2d(x, weight, bias, module.stride, module.padding, module.dilation, module.groups)
    return lambda x: F.linear(x, weight, bias)


def rule_terms(rule, module, x):
    """(modified inputs, modified layer functions) per term, as Zennit's BasicHook subclasses list them."""
    w, b = module.weight, module.bias if module.bias is not None else torch.zeros(module.weight.shape[0])
    pos = lambda t: t.clamp(min=0)
    neg = lambda t: t.clamp(max=0)
    if rule == 'epsilon':
        return [x], [layer_fn(module, w, b)]
    if rule == 'zplus':
        return [pos(x), neg(x)], [layer_fn(module, pos(w), pos(b)), layer_fn(module, neg(w), None)]
    if rule == 'gamma':
        g = 0.25
        wp, wn = w + g * pos(w), w + g * neg(w)
        bp, bn = b + g * pos(b), b + g * neg(b)
        return [pos(x), neg(x), pos(x), neg(x)], [
            layer_fn(module, wp, bp), layer_fn(module, wn, None), layer_fn(module, wn, bn), layer_fn(module, wp, None)]
    if rule == 'zbox':
        low, high = torch.full_like(x, LOW), torch.full_like(x, HIGH)
        return [x, low, high], [layer_fn(module, w, b), layer_fn(module, pos(w), None), layer_fn(module, neg(w), None)]
    raise ValueError(rule)


def rule_relevance(rule, module, x, grad_out):
    with torch.enable_grad():
        terms, fns = rule_terms(rule, module, x)
        inputs = [t.detach().requires_grad_(True) for t in terms]
        outputs = [f(t) for f, t in zip(fns, inputs)]
        if rule == 'epsilon':
            mapped = [grad_out / stabilize(outputs[0], 1e-6)]
        elif rule == 'zplus':
            mapped = [grad_out / stabilize(outputs[0] + outputs[1])] * 2
        elif rule == 'gamma':
            with torch.no_grad():
                z = layer_fn(module, module.weight, module.bias)(x)
            rp = grad_out * (z > 0) / stabilize(outputs[0] + outputs[1])
            rn = grad_out * (z < 0) / stabilize(outputs[2] + outputs[3])
            mapped = [rp, rp, rn, rn]
        else:
            mapped = [grad_out / stabilize(outputs[0] - outputs[1] - outputs[2])] * 3
        grads = torch.autograd.grad(outputs, inputs, grad_outputs=mapped)
    if rule == 'zbox':
        return inputs[0] * grads[0] - inputs[1] * grads[1] - inputs[2] * grads[2]
    return sum(i * g for i, g in zip(inputs, grads) if g is not None)


class Rule(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, out, rule, module):
        ctx.rule, ctx.module = rule, module
        ctx.save_for_backward(x)
        return out.clone()

    @staticmethod
    def backward(ctx, grad_out):
        (x,) = ctx.saved_tensors
        return rule_relevance(ctx.rule, ctx.module, x, grad_out), None, None, None


class Pass(torch.autograd.Function):
    """Zennit's Pass rule for activations: the signal passes unchanged."""
    @staticmethod
    def forward(ctx, x, out):
        return out.clone()

    @staticmethod
    def backward(ctx, grad_out):
        return grad_out, None


def fuse_batchnorms(module):
    from torch.nn.utils.fusion import fuse_conv_bn_eval
    children = list(module.named_children())
    for (pname, prev), (name, child) in zip(children, children[1:]):
        if isinstance(child, nn.BatchNorm2d) and isinstance(prev, nn.Conv2d):
            setattr(module, pname, fuse_conv_bn_eval(prev, child))
            setattr(module, name, nn.Identity())
    for _, child in module.named_children():
        fuse_batchnorms(child)


def attach_lrp(model, composite):
    fuse_batchnorms(model)
    layers = [m for m in model.modules() if isinstance(m, (nn.Conv2d, nn.Linear))]
    for i, m in enumerate(layers):
        if isinstance(m, nn.Linear):
            rule = 'epsilon'
        elif composite == 'epsilon-gamma-box':
            rule = 'zbox' if i == 0 else 'gamma'
        else:
            rule = 'zplus'
        m.register_forward_hook(lambda mod, inp, out, rule=rule: Rule.apply(inp[0], out, rule, mod))
    for m in model.modules():
        if isinstance(m, (nn.ReLU, nn.ReLU6, nn.SiLU, nn.Sigmoid, nn.Hardswish, nn.Hardsigmoid)):
            m.register_forward_hook(lambda mod, inp, out: Pass.apply(inp[0], out))


def run_lrp(model, x, targets, batch, args):
    attach_lrp(model, args.composite)
    out = []
    for i in range(0, len(x), batch):
        xb = x[i:i + batch].detach().requires_grad_(True)
        y = model(xb)
        seed = torch.zeros_like(y).scatter_(1, targets[i:i + batch, None], 1.0) * y.detach()
        (r,) = torch.autograd.grad(y, xb, grad_outputs=seed)
        out.append(r)
    return torch.cat(out)


METHODS = {'gradient': run_gradient, 'integrated-gradients': run_ig, 'smoothgrad': run_smoothgrad, 'lrp': run_lrp}
LOW, HIGH = 0.0, 1.0


def main():
    p = argparse.ArgumentParser()
    p.add_argument('--model', required=True)
    p.add_argument('--method', required=True, choices=sorted(METHODS))
    p.add_argument('--inputs', required=True)
    p.add_argument('--target', type=int, default=7)
    p.add_argument('--weights')
    p.add_argument('--steps', type=int, default=32)
    p.add_argument('--samples', type=int, default=16)
    p.add_argument('--noise', type=float, default=0.1)
    p.add_argument('--composite', default='epsilon-plus')
    p.add_argument('--batch', type=int, required=True)
    p.add_argument('--threads', type=int, default=2)
    p.add_argument('--seed', type=int, default=0)
    p.add_argument('--out', required=True)
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    model = build(args.model, args.weights, args.seed)
    x = torch.from_numpy(np.load(args.inputs))
    targets = torch.full((len(x),), args.target, dtype=torch.long)
    started = time.perf_counter()
    a = METHODS[args.method](model, x, targets, args.batch, args)
    compute = time.perf_counter() - started
    np.save(args.out, a.detach().numpy())
    sys.stderr.write(f'{args.method}: {len(x)} inputs in {compute * 1000:.0f} ms\n')


if __name__ == '__main__':
    main()
