#!/usr/bin/env python3
"""The zoo's `cnn` in PyTorch on the GPU the check runs on, timed as GpuCheck times Marrow; then
the training steps of the zoo's `resnet` (batch 64) and `vgg` (batch 128).

Same model as ModelZoo's cnn: Conv2d(1, 16, 5) + ReLU, MaxPool(2), Conv2d(16, 32, 5) + ReLU,
MaxPool(2), Linear(512, 128) + ReLU, Linear(128, 10); Adam 1e-3, batch 128, cross-entropy on
logits. Measured like Marrow:
- an epoch = the training steps only: a shuffled order, each batch copied from host memory to the
  device, forward, backward, Adam, and the loss read back every step (Marrow's progress bar reads
  it too); the first epoch includes cuDNN's start-up, the second is warm;
- batch-256 inference = one forward pass on an input already on the device, the logits copied
  back; the median over at least 2 s after warm-up.
FP32 as Marrow runs it: TF32 is switched off for convolutions (PyTorch allows it there by default)
and for matrix products.

    torch_cnn.py MNIST_DIR IMAGES [--device cuda|cpu]

MNIST_DIR holds train-images-idx3-ubyte(.gz) and train-labels-idx1-ubyte(.gz). Prints key=value
lines (torch.*) for the GPU check's report; exits 3 when torch or the device is missing.
"""
import gzip
import os
import statistics
import sys
import time

try:
    import numpy as np
    import torch
    import torch.nn as nn
    import torch.nn.functional as F
except ImportError as e:  # the run script reports this as "skipped"
    print(f"torch.skipped=cannot import {e.name}", flush=True)
    sys.exit(3)


def idx(folder, name):
    for candidate in (name, name + ".gz"):
        path = os.path.join(folder, candidate)
        if os.path.exists(path):
            opener = gzip.open if path.endswith(".gz") else open
            with opener(path, "rb") as f:
                data = f.read()
            dims = data[3]
            shape = [int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big") for i in range(dims)]
            return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * dims).reshape(shape)
    raise FileNotFoundError(os.path.join(folder, name))


class Cnn(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 16, 5)
        self.conv2 = nn.Conv2d(16, 32, 5)
        self.dense1 = nn.Linear(32 * 4 * 4, 128)
        self.dense2 = nn.Linear(128, 10)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.conv1(x)), 2)
        x = F.max_pool2d(F.relu(self.conv2(x)), 2)
        return self.dense2(F.relu(self.dense1(x.flatten(1))))


def resnet():
    """ModelZoo.resnet, as bench/pytorch/resnet.py builds it (beside this script in the bundle)."""
    here = os.path.dirname(os.path.abspath(__file__))
    for folder in (here, os.path.join(here, "..", "pytorch")):  # the bundle, or the repository
        if os.path.exists(os.path.join(folder, "resnet.py")):
            sys.path.insert(0, folder)
            break
    import resnet as zoo_resnet
    return zoo_resnet.resnet()


def vgg():
    """ModelZoo.vgg: pairs of bias-free 3x3 'same' convolutions (32, 64, 128, 256) with BN + ReLU,
    2x2 max pooling after each pair but the last, 3 x (Linear(1024) + BN + ReLU), Linear(10)."""
    layers, cin = [], 1
    for block, width in enumerate((32, 64, 128, 256)):
        for _ in range(2):
            layers += [nn.Conv2d(cin, width, 3, 1, 1, bias=False),
                       nn.BatchNorm2d(width, momentum=0.1, eps=1e-3), nn.ReLU()]
            cin = width
        if block < 3:
            layers.append(nn.MaxPool2d(2))
    layers.append(nn.Flatten())
    features = 256 * 3 * 3
    for _ in range(3):
        layers += [nn.Linear(features, 1024, bias=False), nn.BatchNorm1d(1024, momentum=0.1,
                                                                         eps=1e-3), nn.ReLU()]
        features = 1024
    layers.append(nn.Linear(features, 10))
    return nn.Sequential(*layers)


def step_ms(model, batch, device, warm_up, timed):
    """Median wall time of a training step (forward, loss, backward, Adam, the loss read back) on
    one MNIST-like batch already on the device, as GpuCheck times Marrow's."""
    gen = torch.Generator().manual_seed(2)
    x = torch.rand(batch, 1, 28, 28, generator=gen)
    x = (x * (torch.rand(batch, 1, 28, 28, generator=gen) < 0.2)).to(device)
    y = torch.randint(0, 10, (batch,), generator=gen).to(device)
    model = model.to(device).train()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    times = []
    for s in range(warm_up + timed):
        start = time.perf_counter()
        optimizer.zero_grad(set_to_none=True)
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        optimizer.step()
        loss.item()
        if s >= warm_up:
            times.append((time.perf_counter() - start) * 1e3)
    return statistics.median(times)


def main():
    args = sys.argv[1:]
    device_name = "cuda"
    if "--device" in args:
        i = args.index("--device")
        device_name = args[i + 1]
        del args[i:i + 2]
    folder, images = args[0], int(args[1])
    if device_name == "cuda" and not torch.cuda.is_available():
        print(f"torch.skipped=torch {torch.__version__} sees no CUDA device", flush=True)
        sys.exit(3)
    device = torch.device(device_name)
    torch.backends.cudnn.allow_tf32 = False
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.manual_seed(42)

    x = torch.from_numpy(idx(folder, "train-images-idx3-ubyte")[:images].astype(np.float32) / 255)
    x = x.reshape(-1, 1, 28, 28)
    y = torch.from_numpy(idx(folder, "train-labels-idx1-ubyte")[:images].astype(np.int64))
    model = Cnn().to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)

    def sync():
        if device.type == "cuda":
            torch.cuda.synchronize()

    epochs, losses = [], []
    for epoch in range(2):
        model.train()
        sync()
        start = time.perf_counter()
        order = torch.randperm(len(x))
        total = 0.0
        for s in range(0, len(x), 128):
            rows = order[s:s + 128]
            xb, yb = x[rows].to(device), y[rows].to(device)
            optimizer.zero_grad(set_to_none=True)
            loss = F.cross_entropy(model(xb), yb)
            loss.backward()
            optimizer.step()
            total += loss.item() * len(rows)
        sync()
        epochs.append(time.perf_counter() - start)
        losses.append(total / len(x))

    model.eval()
    batch = x[:256].to(device)
    times = []
    with torch.no_grad():
        warm_up_end = time.perf_counter() + 0.5
        while len(times) < 3 or time.perf_counter() < warm_up_end:
            model(batch).cpu()
            times.append(0)
        times = []
        end = time.perf_counter() + 2
        while len(times) < 5 or (time.perf_counter() < end and len(times) < 1000):
            start = time.perf_counter()
            model(batch).cpu()
            times.append(time.perf_counter() - start)

    print(f"torch.version={torch.__version__}")
    if device.type == "cuda":
        print(f"torch.device={torch.cuda.get_device_name(device)}")
        print(f"torch.cuda={torch.version.cuda}")
        print(f"torch.cudnn={torch.backends.cudnn.version()}")
    else:
        print(f"torch.device=cpu, {torch.get_num_threads()} threads")
    print(f"torch.epoch1_seconds={epochs[0]:.3f}")
    print(f"torch.epoch2_seconds={epochs[1]:.3f}")
    print(f"torch.epoch1_loss={losses[0]:.4f}")
    print(f"torch.infer256_images_per_second={len(batch) / statistics.median(times):.0f}")

    # The zoo's convolutional models' training steps; on the CPU (the emulated check) a token
    # batch, as GpuCheck uses there.
    full = device.type == "cuda"
    for name, build, batch in (("resnet", resnet, 64), ("vgg", vgg, 128)):
        b = batch if full else 8
        ms = step_ms(build(), b, device, 5 if full else 1, 20 if full else 2)
        print(f"torch.{name}_step_ms={ms:.2f}")
        print(f"torch.{name}_step_batch={b}")


if __name__ == "__main__":
    main()
