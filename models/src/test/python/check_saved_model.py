#!/usr/bin/python3
"""Checks that a model Marrow saved is a standard safetensors file that PyTorch can use.

Reads RUN_DIR/model.json and RUN_DIR/model.safetensors with nothing but the standard library and
Debian's python3-torch (the safetensors layout is parsed by hand: an 8-byte little-endian header
length, a JSON header, raw little-endian data), builds the equivalent torch.nn model, loads the
weights into it, and compares its logits on the first MNIST test images with the logits Marrow
computed for the same images (`marrow evaluate --model RUN_DIR --logits FILE`).

    ./marrow evaluate --model runs/cnn --logits /tmp/logits.json
    /usr/bin/python3 models/src/test/python/check_saved_model.py runs/cnn /tmp/logits.json

MNIST is read from $MNIST_DIR or ~/.cache/marrow/mnist. Exit code 0 when every logit agrees
within 1e-4 (relative) and every predicted digit matches; 1 otherwise.
"""
import gzip
import json
import os
import struct
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F


def read_safetensors(path):
    with open(path, "rb") as fh:
        blob = fh.read()
    (n,) = struct.unpack("<Q", blob[:8])
    header = json.loads(blob[8:8 + n])
    data = blob[8 + n:]
    tensors = {}
    for name, entry in header.items():
        if name == "__metadata__":
            continue
        assert entry["dtype"] == "F32", (name, entry["dtype"])
        begin, end = entry["data_offsets"]
        t = torch.frombuffer(bytearray(data[begin:end]), dtype=torch.float32)
        tensors[name] = t.reshape(entry["shape"]) if entry["shape"] else t
    return tensors, header.get("__metadata__", {})


class SamePad(nn.Module):
    """TensorFlow's 'same' padding: the odd pixel goes to the bottom/right."""

    def __init__(self, k, stride, dilation, value=0.0):
        super().__init__()
        self.k, self.stride, self.dilation, self.value = k, stride, dilation, value

    def forward(self, x):
        pads = []
        for axis in (3, 2):  # F.pad takes the last axis first
            size = x.shape[axis]
            out = (size + self.stride[axis - 2] - 1) // self.stride[axis - 2]
            span = self.dilation[axis - 2] * (self.k[axis - 2] - 1) + 1
            total = max((out - 1) * self.stride[axis - 2] + span - size, 0)
            pads += [total // 2, total - total // 2]
        return F.pad(x, pads, value=self.value)


ACTIVATIONS = {"relu": nn.ReLU, "sigmoid": nn.Sigmoid, "tanh": nn.Tanh,
               "softmax": lambda: nn.Softmax(dim=1)}


def build(model_json, weights):
    shape = list(model_json["input_shape"])
    layers = []
    for spec in model_json["layers"]:
        kind, name, cfg = spec["type"], spec["name"], spec["config"]
        act = cfg.get("activation", "linear")
        if kind == "dense":
            w = weights[name + ".weight"]  # Marrow stores (in, out), as Keras
            lin = nn.Linear(w.shape[0], w.shape[1], bias=cfg["use_bias"])
            lin.weight.data = w.t().contiguous()
            if cfg["use_bias"]:
                lin.bias.data = weights[name + ".bias"]
            layers.append(lin)
            shape = [w.shape[1]]
        elif kind == "conv":
            w = weights[name + ".weight"]  # (out, in, kh, kw), as PyTorch
            k, s, d, pad = cfg["kernel_size"], cfg["strides"], cfg["dilation_rate"], cfg["padding"]
            if pad == "same":
                layers.append(SamePad(k, s, d))
                pad = 0
            elif pad == "valid":
                pad = 0
            conv = nn.Conv2d(w.shape[1], w.shape[0], tuple(k), tuple(s), padding=tuple(pad)
                             if isinstance(pad, list) else pad, dilation=tuple(d),
                             bias=cfg["use_bias"])
            conv.weight.data = w
            if cfg["use_bias"]:
                conv.bias.data = weights[name + ".bias"]
            layers.append(conv)
            shape = None
        elif kind in ("maxpool", "avgpool"):
            k, s, pad = cfg["pool_size"], cfg["strides"], cfg["padding"]
            if pad == "same":
                layers.append(SamePad(k, s, [1, 1], -float("inf") if kind == "maxpool" else 0.0))
                pad = 0
                if kind == "avgpool":
                    raise SystemExit("average pooling with 'same' padding has no torch twin")
            elif pad == "valid":
                pad = 0
            pad = tuple(pad) if isinstance(pad, list) else pad
            layers.append(nn.MaxPool2d(tuple(k), tuple(s), pad) if kind == "maxpool" else
                          nn.AvgPool2d(tuple(k), tuple(s), pad,
                                       count_include_pad=cfg.get("count_include_pad", False)))
        elif kind == "globalavgpool":
            layers += [nn.AdaptiveAvgPool2d(1), nn.Flatten()]
        elif kind == "globalmaxpool":
            layers += [nn.AdaptiveMaxPool2d(1), nn.Flatten()]
        elif kind == "zeropad":
            (top, bottom), (left, right) = cfg["padding"]
            layers.append(nn.ZeroPad2d((left, right, top, bottom)))
        elif kind == "bn":
            c = weights[name + ".weight"].shape[0]
            bn = (nn.BatchNorm1d if shape is not None and len(shape) == 1 else nn.BatchNorm2d)(
                c, eps=cfg["epsilon"])
            bn.weight.data = weights[name + ".weight"]
            bn.bias.data = weights[name + ".bias"]
            bn.running_mean.data = weights[name + ".running_mean"]
            bn.running_var.data = weights[name + ".running_var"]
            layers.append(bn)
        elif kind == "dropout":
            layers.append(nn.Dropout(cfg["rate"]))
        elif kind == "flatten":
            layers.append(nn.Flatten())
            shape = [0]
        elif kind == "reshape":
            layers.append(nn.Unflatten(1, tuple(cfg["target_shape"])))
            shape = list(cfg["target_shape"])
        elif kind == "activation":
            pass
        else:
            raise SystemExit(f"unknown layer type {kind}")
        if act != "linear":
            layers.append(ACTIVATIONS[act]())
    return nn.Sequential(*layers)


def mnist_test_images(count):
    root = os.environ.get("MNIST_DIR", os.path.expanduser("~/.cache/marrow/mnist"))
    path = os.path.join(root, "t10k-images-idx3-ubyte")
    opener = open if os.path.exists(path) else gzip.open
    with opener(path if os.path.exists(path) else path + ".gz", "rb") as fh:
        blob = fh.read()
    magic, n, rows, cols = struct.unpack(">IIII", blob[:16])
    assert magic == 0x803
    px = torch.frombuffer(bytearray(blob[16:16 + count * rows * cols]), dtype=torch.uint8)
    return px.float().div(255).reshape(count, 1, rows, cols)


def main(run_dir, logits_file):
    with open(os.path.join(run_dir, "model.json")) as fh:
        model_json = json.load(fh)
    weights, metadata = read_safetensors(os.path.join(run_dir, "model.safetensors"))
    model = build(model_json, weights).eval()
    with open(logits_file) as fh:
        marrow = json.load(fh)
    expected = torch.tensor(marrow["logits"], dtype=torch.float32)
    x = mnist_test_images(expected.shape[0])
    if model_json["input_shape"] != [1, 28, 28]:
        x = x.reshape([x.shape[0]] + model_json["input_shape"])
    with torch.no_grad():
        got = model(x)
    diff = (got - expected).abs().max().item()
    scale = expected.abs().max().item()
    same_digits = bool((got.argmax(1) == expected.argmax(1)).all())
    print(f"model: {len(model_json['layers'])} layers, {len(weights)} tensors, "
          f"metadata {metadata}")
    print(f"torch {torch.__version__}: {expected.shape[0]} test images, max |logit difference| "
          f"{diff:.3g} (logits up to {scale:.3g}), digits agree: {same_digits}")
    print("torch digits: ", got.argmax(1).tolist())
    print("marrow digits:", expected.argmax(1).tolist())
    ok = same_digits and diff <= 1e-4 * max(1.0, scale)
    print("OK" if ok else "MISMATCH")
    return 0 if ok else 1


if __name__ == "__main__":
    if len(sys.argv) != 3:
        raise SystemExit(__doc__)
    sys.exit(main(sys.argv[1], sys.argv[2]))
