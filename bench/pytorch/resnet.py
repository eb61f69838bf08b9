#!/usr/bin/python3
"""The zoo's `resnet` in PyTorch, timed as Marrow times an epoch, for a side-by-side figure.

Same architecture as ModelZoo.resnet: 3x3 stem conv (32) + BN + ReLU, three basic blocks (32, 64,
128 filters; stride 2 with 1x1 projection shortcuts in the last two; bias-free convs, padding 1,
BN momentum 0.1 in PyTorch's convention = Keras' 0.9, eps 1e-5), global average pooling,
Linear(10); Adam 2e-3, batch 64 (--lr, --batch; the zoo's recipe, whose per-step cosine decay the timing
does not need). Epoch time = the training steps of one epoch, shuffling
included, evaluation excluded (Marrow's definition).

    /usr/bin/python3 bench/pytorch/resnet.py ~/.cache/marrow/mnist [--threads 2] [--epochs 1]
        [--steps N]   (time the first N steps only and scale to a full epoch)

Use Debian's python3-torch with libopenblas0-pthread installed; in a benchmark command only,
unset OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE so OpenBLAS picks its own kernels.
"""
import argparse
import gzip
import os
import statistics
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F


def idx(path):
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as f:
        data = f.read()
    dims = data[3]
    shape = [int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big") for i in range(dims)]
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * dims).reshape(shape)


def load(folder, name):
    for candidate in (name, name + ".gz"):
        p = os.path.join(folder, candidate)
        if os.path.exists(p):
            return idx(p)
    raise FileNotFoundError(os.path.join(folder, name))


class Block(nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.c1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.b1 = nn.BatchNorm2d(cout, momentum=0.1)
        self.c2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.b2 = nn.BatchNorm2d(cout, momentum=0.1)
        self.short = None
        if stride != 1 or cin != cout:
            self.short = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False),
                                       nn.BatchNorm2d(cout, momentum=0.1))

    def forward(self, x):
        h = F.relu(self.b1(self.c1(x)))
        h = self.b2(self.c2(h))
        return F.relu(h + (x if self.short is None else self.short(x)))


def resnet():
    return nn.Sequential(
        nn.Conv2d(1, 32, 3, 1, 1, bias=False), nn.BatchNorm2d(32, momentum=0.1), nn.ReLU(),
        Block(32, 32, 1), Block(32, 64, 2), Block(64, 128, 2),
        nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(128, 10))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("data")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--epochs", type=int, default=1)
    ap.add_argument("--steps", type=int, default=0)
    ap.add_argument("--batch", type=int, default=64, help="the zoo's resnet: 64")
    ap.add_argument("--lr", type=float, default=2e-3, help="the zoo's resnet: 2e-3")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(42)
    x = torch.from_numpy(load(a.data, "train-images-idx3-ubyte").astype(np.float32) / 255.0)
    x = x.reshape(-1, 1, 28, 28)
    y = torch.from_numpy(load(a.data, "train-labels-idx1-ubyte").astype(np.int64))
    tx = torch.from_numpy(load(a.data, "t10k-images-idx3-ubyte").astype(np.float32) / 255.0)
    tx = tx.reshape(-1, 1, 28, 28)
    ty = torch.from_numpy(load(a.data, "t10k-labels-idx1-ubyte").astype(np.int64))
    model = resnet()
    opt = torch.optim.Adam(model.parameters(), lr=a.lr, eps=1e-7)
    n, batch = x.shape[0], a.batch
    steps_per_epoch = (n + batch - 1) // batch
    print(f"torch {torch.__version__}, threads {torch.get_num_threads()}, "
          f"{torch.__config__.parallel_info().splitlines()[0]}")
    for epoch in range(1, a.epochs + 1):
        model.train()
        start = time.perf_counter()
        order = torch.randperm(n)
        step_times = []
        limit = a.steps or steps_per_epoch
        for s in range(limit):
            t0 = time.perf_counter()
            idx_ = order[s * batch:(s + 1) * batch]
            out = model(x.index_select(0, idx_))
            loss = F.cross_entropy(out, y.index_select(0, idx_))
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            step_times.append(time.perf_counter() - t0)
        seconds = time.perf_counter() - start
        if a.steps:
            median = statistics.median(step_times[5:] if len(step_times) > 10 else step_times)
            print(f"epoch {epoch}: {limit} steps in {seconds:.2f}s, median step {median * 1000:.1f} ms"
                  f" -> {median * steps_per_epoch:.1f}s per {steps_per_epoch}-step epoch")
        else:
            print(f"epoch {epoch}: {seconds:.2f}s, loss {loss.item():.4f}")
    if not a.steps:
        model.eval()
        with torch.no_grad():
            correct = sum((model(tx[i:i + 1000]).argmax(1) == ty[i:i + 1000]).sum().item()
                          for i in range(0, tx.shape[0], 1000))
        print(f"test accuracy {correct / tx.shape[0]:.4f}")


if __name__ == "__main__":
    main()
