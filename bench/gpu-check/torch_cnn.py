#!/usr/bin/env python3
"""The zoo's `cnn` in PyTorch on the GPU the check runs on, timed as GpuCheck times Marrow.

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


if __name__ == "__main__":
    main()
