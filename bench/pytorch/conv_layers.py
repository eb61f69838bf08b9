#!/usr/bin/env python3
"""PyTorch's time for single convolution layers, forward, backward data and filter gradient:
the reference beside Marrow's JMH convolution benchmarks (ConvBenchmark, WinogradBenchmark,
StridedConvBenchmark), whose layer format it takes: name:c,h,w,f,k,pad[,stride].

    bench/pytorch/conv_layers.py --batch 64 resnet.stage3:64,14,14,128,3,1,2 ...

Each pass is timed alone (median of --reps after a warm-up) at 1 and 2 threads; the faster is
printed with its thread count. Compare against OpenBLAS/oneDNN as installed: unset
OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE for the machine's own kernels.
"""
import argparse
import statistics
import time

import torch


def median_ms(fn, reps):
    for _ in range(5):
        fn()
    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1e3)
    return statistics.median(times)


def layer_times(spec, batch, reps):
    values = [int(v) for v in spec.split(":", 1)[1].split(",")]
    c, h, w, f, k, pad = values[:6]
    stride = values[6] if len(values) > 6 else 1
    x = torch.randn(batch, c, h, w)
    weight = torch.randn(f, c, k, k)
    y = torch.nn.functional.conv2d(x, weight, stride=stride, padding=pad)
    dy = torch.randn_like(y)

    # the backward kernels autograd runs (torch.nn.grad's helpers take slower paths)
    def backward(mask):
        return torch.ops.aten.convolution_backward(
            dy, x, weight, None, [stride, stride], [pad, pad], [1, 1], False, [0, 0], 1, mask)

    with torch.no_grad():
        return {
            "forward": median_ms(
                lambda: torch.nn.functional.conv2d(x, weight, stride=stride, padding=pad), reps),
            "backward data": median_ms(lambda: backward([True, False, False]), reps),
            "filter gradient": median_ms(lambda: backward([False, True, False]), reps),
        }


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("layers", nargs="+", help="name:c,h,w,f,k,pad[,stride]")
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--reps", type=int, default=30)
    args = ap.parse_args()
    print(f"# PyTorch {torch.__version__}, batch {args.batch}, ms (threads)")
    print("| layer | forward | backward data | filter gradient |")
    print("| --- | ---: | ---: | ---: |")
    for spec in args.layers:
        best = {}
        for threads in (1, 2):
            torch.set_num_threads(threads)
            for name, ms in layer_times(spec, args.batch, args.reps).items():
                if name not in best or ms < best[name][0]:
                    best[name] = (ms, threads)
        cells = [f"{best[n][0]:.2f} ({best[n][1]})" for n in ("forward", "backward data", "filter gradient")]
        print(f"| {spec} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
