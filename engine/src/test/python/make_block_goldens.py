#!/usr/bin/python3
"""Golden fixtures for whole blocks (GraphTest's goldens), computed with PyTorch.

Three small models, each as the Marrow graph in BlockGoldenTest builds it, with parameters under
Marrow's names (Dense weights stored as (in, out), Marrow's layout):
  residual  conv3x3/2 -> BN -> ReLU -> conv3x3 -> BN, plus a 1x1 stride-2 projection -> BN,
            added, ReLU, Flatten, Dense
  concat    conv3x3+ReLU and conv1x1 of the same input, concatenated on channels, max-pool,
            Flatten, Dense
  stack     conv (no bias: BN follows) -> BN -> ReLU -> max-pool -> Flatten -> Dense
For each: the input, labels, initial parameters, the logits (training mode), the mean
cross-entropy, the gradient of the input and of every parameter, and the parameters after three
Adam (lr 1e-2, eps 1e-7) and, separately, three SGD steps with Nesterov momentum (lr 0.1, 0.9),
each step on the same batch, through torch.optim.

Regenerate (Debian's python3-torch; float32; ~1 s):
    /usr/bin/python3 engine/src/test/python/make_block_goldens.py engine/src/test/resources/goldens
"""
import json
import os
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F

torch.manual_seed(20261129)
torch.set_num_threads(1)


def t(x):
    x = x.detach().float().contiguous()
    return {"shape": list(x.shape), "data": [float(v) for v in x.reshape(-1).tolist()]}


def bn(c):
    return nn.BatchNorm2d(c, eps=1e-5, momentum=0.1)


class Residual(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 4, 3, 2, 1, bias=False)
        self.bn1 = bn(4)
        self.conv2 = nn.Conv2d(4, 4, 3, 1, 1, bias=False)
        self.bn2 = bn(4)
        self.conv3 = nn.Conv2d(3, 4, 1, 2, bias=False)
        self.bn3 = bn(4)
        self.dense1 = nn.Linear(64, 5)

    def forward(self, x):
        main = self.bn2(self.conv2(F.relu(self.bn1(self.conv1(x)))))
        return self.dense1(torch.flatten(F.relu(main + self.bn3(self.conv3(x))), 1))


class Concat(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(2, 3, 3, 1, 1)
        self.conv2 = nn.Conv2d(2, 2, 1)
        self.dense1 = nn.Linear(5 * 3 * 3, 4)

    def forward(self, x):
        joined = torch.cat([F.relu(self.conv1(x)), self.conv2(x)], 1)
        return self.dense1(torch.flatten(F.max_pool2d(joined, 2), 1))


class Stack(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 4, 3, bias=False)  # a bias before BN has no gradient
        self.bn1 = bn(4)
        self.dense1 = nn.Linear(4 * 3 * 3, 3)

    def forward(self, x):
        h = F.max_pool2d(F.relu(self.bn1(self.conv1(x))), 2)
        return self.dense1(torch.flatten(h, 1))


CASES = [("residual", Residual, (4, 3, 8, 8), 5), ("concat", Concat, (3, 2, 6, 6), 4),
         ("stack", Stack, (4, 1, 8, 8), 3)]


def marrow_params(model):
    """Trainable parameters under Marrow's names; Dense weights transposed to (in, out)."""
    out = {}
    for name, p in model.named_parameters():
        layer, kind = name.split(".")
        value = p.detach()
        if layer.startswith("dense") and kind == "weight":
            value = value.t()
        out[f"{layer}.{kind}"] = value
    return out


def marrow_grads(model):
    out = {}
    for name, p in model.named_parameters():
        layer, kind = name.split(".")
        g = p.grad.detach()
        out[f"{layer}.{kind}"] = g.t() if layer.startswith("dense") and kind == "weight" else g
    return out


def after_steps(make_model, state, opt_factory, x, y):
    model = make_model()
    model.load_state_dict(state)
    model.train()
    opt = opt_factory(model.parameters())
    for _ in range(3):
        opt.zero_grad()
        F.cross_entropy(model(x), y).backward()
        opt.step()
    return {k: t(v) for k, v in marrow_params(model).items()}


def case(name, make_model, shape, classes):
    model = make_model()
    with torch.no_grad():  # BN's affine parameters away from 1 and 0, so they matter
        for m in model.modules():
            if isinstance(m, nn.BatchNorm2d):
                m.weight.uniform_(0.5, 1.5)
                m.bias.uniform_(-0.2, 0.2)
    state = {k: v.clone() for k, v in model.state_dict().items()}
    x = torch.randn(*shape).requires_grad_()
    y = torch.randint(0, classes, (shape[0],))
    model.train()
    logits = model(x)
    loss = F.cross_entropy(logits, y)
    loss.backward()
    return {
        "name": name, "x": t(x), "labels": [int(v) for v in y.tolist()],
        "params": {k: t(v) for k, v in marrow_params(model).items()},
        "logits": t(logits), "loss": float(loss), "dx": t(x.grad),
        "grads": {k: t(v) for k, v in marrow_grads(model).items()},
        "adam3": after_steps(make_model, state,
                             lambda ps: torch.optim.Adam(ps, lr=1e-2, eps=1e-7), x.detach(), y),
        "nesterov3": after_steps(make_model, state,
                                 lambda ps: torch.optim.SGD(ps, lr=0.1, momentum=0.9,
                                                            nesterov=True), x.detach(), y),
    }


def main(out_dir):
    cases = [case(*c) for c in CASES]
    with open(os.path.join(out_dir, "blocks.json"), "w") as f:
        json.dump({"generator": "engine/src/test/python/make_block_goldens.py",
                   "torch": torch.__version__, "cases": cases}, f)
    print(f"{len(cases)} block cases -> {out_dir}/blocks.json")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else ".")
