#!/usr/bin/python3
"""Golden fixtures for Marrow's layer tests, computed with PyTorch.

For each layer configuration it stores the input, the parameters, the output, a random upstream
gradient dy, and the gradients of the input and of every parameter for the loss sum(y * dy).
Batch norm also stores the running statistics after the step and an inference-mode pass.

Regenerate (Debian's python3-torch, CPU; float32 throughout; ~1 s):
    /usr/bin/python3 engine/src/test/python/make_goldens.py engine/src/test/resources/goldens
BuiltinLayerTest compares each case, within 1e-4 relative, with the layer configuration it is
attached to there (LayerTestHelper's golden step); a new case needs such a place, or that test fails.

New cases go at the end: every case draws from one seeded generator, so earlier cases keep their
inputs. A case already in the output file with the same inputs and outputs that agree to within
1e-4 relative is kept as stored: PyTorch's float32 results differ in the last bits between
machines (BLAS kernels, vector widths), and the fixture should change only where cases did.
"""
import json
import math
import os
import sys

import torch
import torch.nn.functional as F

torch.manual_seed(20261122)
torch.set_num_threads(1)


def t(x):
    x = x.detach().float().contiguous()
    return {"shape": list(x.shape), "data": [float(v) for v in x.reshape(-1).tolist()]}


def rand(*shape):
    return torch.randn(*shape, dtype=torch.float32)


# Marrow's activations by their Keras names, with Keras 3's defaults (see Activation.java).
ACTIVATIONS = {
    "linear": lambda v: v,
    "relu": torch.relu,
    "sigmoid": torch.sigmoid,
    "tanh": torch.tanh,
    "softmax": lambda v: torch.softmax(v, dim=1),
    "leaky_relu": lambda v: F.leaky_relu(v, negative_slope=0.2),  # PyTorch's default is 0.01
    "elu": lambda v: F.elu(v, alpha=1.0),
    "gelu": lambda v: F.gelu(v, approximate="none"),  # the exact erf form
    "silu": F.silu,
    "softplus": lambda v: F.softplus(v, beta=1.0, threshold=20.0),
}


def same_pads(size, k, stride, dilation):
    """TensorFlow's 'same': output ceil(size/stride); the odd pixel goes bottom/right."""
    out = (size + stride - 1) // stride
    total = max((out - 1) * stride + dilation * (k - 1) + 1 - size, 0)
    return total // 2, total - total // 2


def conv_case(name, n, c, h, w, f, k, stride, padding, dilation, bias, activation="linear"):
    x = rand(n, c, h, w).requires_grad_()
    weight = (rand(f, c, k, k) * 0.5).requires_grad_()
    b = (rand(f) * 0.1).requires_grad_() if bias else None
    if padding == "same":
        top, bottom = same_pads(h, k, stride, dilation)
        left, right = same_pads(w, k, stride, dilation)
        y = F.conv2d(F.pad(x, (left, right, top, bottom)), weight, b, stride=stride,
                     dilation=dilation)
    else:
        pad = 0 if padding == "valid" else padding
        y = F.conv2d(x, weight, b, stride=stride, padding=pad, dilation=dilation)
    y = ACTIVATIONS[activation](y)
    dy = rand(*y.shape)
    (y * dy).sum().backward()
    case = {"name": name, "layer": "conv2d", "filters": f, "kernel": k, "stride": stride,
            "padding": padding, "dilation": dilation, "bias": bias}
    if activation != "linear":  # absent in the cases from before activations were added
        case["activation"] = activation
    case.update({"x": t(x), "weight": t(weight), "y": t(y), "dy": t(dy), "dx": t(x.grad),
                 "dweight": t(weight.grad)})
    if bias:
        case["b"] = t(b)
        case["db"] = t(b.grad)
    return case


def pool_case(name, mode, n, c, h, w, k, stride, padding):
    x = rand(n, c, h, w).requires_grad_()
    if mode == "max":
        if padding == "same":
            top, bottom = same_pads(h, k, stride, 1)
            left, right = same_pads(w, k, stride, 1)
            y = F.max_pool2d(F.pad(x, (left, right, top, bottom), value=-math.inf), k, stride)
        else:
            y = F.max_pool2d(x, k, stride, padding=0 if padding == "valid" else padding)
    else:
        include = mode == "avg_include_pad"
        y = F.avg_pool2d(x, k, stride, padding=0 if padding == "valid" else padding,
                         count_include_pad=include)
    dy = rand(*y.shape)
    (y * dy).sum().backward()
    return {"name": name, "layer": "pool", "mode": mode, "pool": k, "stride": stride,
            "padding": padding, "x": t(x), "y": t(y), "dy": t(dy), "dx": t(x.grad)}


def global_avg_case(name, n, c, h, w):
    x = rand(n, c, h, w).requires_grad_()
    y = x.mean(dim=(2, 3))
    dy = rand(*y.shape)
    (y * dy).sum().backward()
    return {"name": name, "layer": "global_avg_pool", "x": t(x), "y": t(y), "dy": t(dy),
            "dx": t(x.grad)}


def bn_case(name, shape, momentum, eps):
    x = (rand(*shape) * 2 + 0.5).requires_grad_()
    c = shape[1]
    gamma = (1 + 0.3 * rand(c)).requires_grad_()
    beta = (0.2 * rand(c)).requires_grad_()
    running_mean = 0.1 * rand(c)
    running_var = 1 + 0.2 * torch.rand(c)
    rm, rv = running_mean.clone(), running_var.clone()
    # Keras momentum m is PyTorch's 1 - m.
    y = F.batch_norm(x, rm, rv, gamma, beta, training=True, momentum=1 - momentum, eps=eps)
    dy = rand(*y.shape)
    (y * dy).sum().backward()
    with torch.no_grad():
        y_eval = F.batch_norm(x, rm, rv, gamma, beta, training=False, eps=eps)
    return {"name": name, "layer": "batch_norm", "momentum": momentum, "epsilon": eps,
            "x": t(x), "gamma": t(gamma), "beta": t(beta), "running_mean": t(running_mean),
            "running_var": t(running_var), "y": t(y), "dy": t(dy), "dx": t(x.grad),
            "dgamma": t(gamma.grad), "dbeta": t(beta.grad), "running_mean_after": t(rm),
            "running_var_after": t(rv), "y_eval": t(y_eval)}


def dense_case(name, n, fin, fout, activation):
    x = rand(n, fin).requires_grad_()
    weight = (rand(fin, fout) * 0.4).requires_grad_()  # Keras layout (in, out)
    b = (rand(fout) * 0.1).requires_grad_()
    y = ACTIVATIONS[activation](x @ weight + b)
    dy = rand(*y.shape)
    (y * dy).sum().backward()
    return {"name": name, "layer": "dense", "units": fout, "activation": activation,
            "x": t(x), "weight": t(weight), "b": t(b), "y": t(y), "dy": t(dy), "dx": t(x.grad),
            "dweight": t(weight.grad), "db": t(b.grad)}


# ---- begin block: ZeroPadding2D and GlobalMaxPooling2D (branch spi) ----------------------------
# Its own random generator, and its cases go last: adding them shifts no random draw of the cases
# above, and cases added above do not change these. To merge with other additions, keep both and
# rerun the script.
SPI_RANDOM = torch.Generator().manual_seed(20261129)


def spi_rand(*shape):
    return torch.randn(*shape, generator=SPI_RANDOM, dtype=torch.float32)


def zero_padding_case(name, n, c, h, w, top, bottom, left, right):
    x = spi_rand(n, c, h, w).requires_grad_()
    y = F.pad(x, (left, right, top, bottom))
    dy = spi_rand(*y.shape)
    (y * dy).sum().backward()
    return {"name": name, "layer": "zero_padding", "padding": [[top, bottom], [left, right]],
            "x": t(x), "y": t(y), "dy": t(dy), "dx": t(x.grad)}


def global_max_case(name, n, c, h, w, ties):
    x = spi_rand(n, c, h, w)
    if ties:  # as after a ReLU: the gradient goes to the first maximum (row-major)
        x = (x * 2).round().clamp(min=0) / 2
    x.requires_grad_()
    y = F.adaptive_max_pool2d(x, 1).flatten(1)
    dy = spi_rand(*y.shape)
    (y * dy).sum().backward()
    return {"name": name, "layer": "global_max_pool", "x": t(x), "y": t(y), "dy": t(dy),
            "dx": t(x.grad)}


def spi_cases():
    return [
        zero_padding_case("zero padding 1", 2, 3, 5, 4, 1, 1, 1, 1),
        zero_padding_case("zero padding ((2, 0), (1, 3))", 2, 2, 4, 7, 2, 0, 1, 3),
        zero_padding_case("zero padding rows only", 1, 3, 3, 5, 0, 2, 0, 0),
        zero_padding_case("zero padding columns only", 3, 1, 4, 17, 0, 0, 2, 1),
        global_max_case("global max pooling", 3, 4, 5, 6, False),
        global_max_case("global max pooling with ties", 2, 3, 4, 3, True),
        global_max_case("global max pooling single row", 2, 2, 1, 9, False),
    ]
# ---- end block: ZeroPadding2D and GlobalMaxPooling2D (branch spi) ------------------------------
INPUTS = ("x", "weight", "b", "dy", "gamma", "beta", "running_mean", "running_var")


def keep_stored(cases, path):
    """Each case as stored in path when its inputs are the same and its outputs agree."""
    if not os.path.exists(path):
        return cases
    with open(path) as fh:
        stored = {c["name"]: c for c in json.load(fh)["cases"]}
    kept, worst = 0, 0.0
    out = []
    for case in cases:
        old = stored.get(case["name"])
        if old is None or old.keys() != case.keys() or any(
                old[k] != case[k] for k in case if k in INPUTS or not isinstance(case[k], dict)):
            out.append(case)
            continue
        deviation = max(abs(a - b) / (abs(b) + 1e-6)
                        for k in case if isinstance(case[k], dict) and k not in INPUTS
                        for a, b in zip(case[k]["data"], old[k]["data"]))
        if deviation > 1e-4:
            print(f"{case['name']}: outputs moved by {deviation:.2e} relative; regenerated")
            out.append(case)
            continue
        worst = max(worst, deviation)
        kept += 1
        out.append(old)
    print(f"kept {kept} stored cases (they differ from this run by <= {worst:.2e} relative)")
    return out


def main(out_dir):
    cases = []
    conv = [
        # name, n, c, h, w, f, k, stride, padding, dilation, bias
        ("conv 1ch valid 3x3", 1, 1, 7, 9, 2, 3, 1, "valid", 1, True),
        ("conv batch2 3ch valid 5x5", 2, 3, 11, 10, 4, 5, 1, "valid", 1, True),
        ("conv stride2 valid", 2, 2, 9, 9, 3, 3, 2, "valid", 1, True),
        ("conv same stride1 3x3 no bias", 2, 3, 8, 7, 5, 3, 1, "same", 1, False),
        ("conv same stride2 odd size", 2, 2, 9, 7, 3, 3, 2, "same", 1, True),
        ("conv same even kernel 4x4", 1, 2, 6, 6, 2, 4, 1, "same", 1, True),
        ("conv explicit pad 2", 2, 3, 7, 8, 4, 5, 1, [2, 2], 1, True),
        ("conv explicit pad (1,2) stride 2", 1, 2, 9, 10, 3, 3, 2, [1, 2], 1, True),
        ("conv dilation 2 valid", 2, 2, 11, 9, 3, 3, 1, "valid", 2, True),
        ("conv dilation 2 same", 1, 3, 8, 8, 2, 3, 1, "same", 2, False),
        ("conv 16x16 kernel like simple-cnn", 2, 1, 28, 28, 8, 16, 1, "valid", 1, True),
        ("conv 1x1", 2, 4, 5, 5, 3, 1, 1, "valid", 1, True),
    ]
    cases += [conv_case(*c) for c in conv]
    pools = [
        ("maxpool 2/2", "max", 2, 3, 8, 8, 2, 2, "valid"),
        ("maxpool 2/2 odd size", "max", 1, 2, 7, 9, 2, 2, "valid"),
        ("maxpool 3/2 overlapping", "max", 2, 2, 9, 9, 3, 2, "valid"),
        ("maxpool 3/1 explicit pad 1", "max", 1, 2, 6, 7, 3, 1, [1, 1]),
        ("maxpool 2/2 same odd size", "max", 1, 2, 7, 7, 2, 2, "same"),
        ("avgpool 2/2", "avg_exclude_pad", 2, 3, 8, 6, 2, 2, "valid"),
        ("avgpool 3/2 overlapping", "avg_exclude_pad", 1, 2, 9, 9, 3, 2, "valid"),
        ("avgpool 3/1 pad 1 exclude pad", "avg_exclude_pad", 2, 2, 6, 5, 3, 1, [1, 1]),
        ("avgpool 3/2 pad 1 include pad", "avg_include_pad", 1, 3, 7, 7, 3, 2, [1, 1]),
    ]
    cases += [pool_case(*p) for p in pools]
    cases += [global_avg_case("global average pooling", 3, 4, 5, 6)]
    cases += [bn_case("batch norm dense batch 8", (8, 5), 0.99, 1e-3),
              bn_case("batch norm conv batch 4", (4, 3, 5, 6), 0.9, 1e-5),
              bn_case("batch norm conv batch 1", (1, 2, 4, 4), 0.99, 1e-3),
              bn_case("batch norm dense batch 2", (2, 7), 0.5, 1e-3)]
    cases += [dense_case("dense " + a, 4, 7, 5, a)
              for a in ("linear", "relu", "sigmoid", "tanh", "softmax")]
    cases += [dense_case("dense batch 1", 1, 9, 3, "relu")]
    cases += spi_cases()  # branch spi's block: keep it last
    new_activations = ("leaky_relu", "elu", "gelu", "silu", "softplus")
    cases += [dense_case("dense " + a, 4, 7, 5, a) for a in new_activations]
    cases += [conv_case("conv same 3x3 " + a, 2, 3, 8, 7, 4, 3, 1, "same", 1, True, a)
              for a in ("relu", "sigmoid", "tanh") + new_activations]
    os.makedirs(out_dir, exist_ok=True)
    path = os.path.join(out_dir, "layers.json")
    cases = keep_stored(cases, path)
    with open(path, "w") as fh:
        json.dump({"generator": "engine/src/test/python/make_goldens.py",
                   "torch": torch.__version__, "cases": cases}, fh, separators=(",", ":"))
    print(f"wrote {len(cases)} cases to {path} ({os.path.getsize(path) // 1024} KiB)")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "engine/src/test/resources/goldens")
