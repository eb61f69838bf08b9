#!/usr/bin/python3
"""Marrow beside PyTorch on this machine, in one sitting: the README's side-by-side table.

    bench/run --side-by-side [--avx2] [--rounds N] [MODEL ...]      (after ./marrow build)

MODEL: mlp32 mlp128 cnn vgg resnet (default: all). Epoch models (mlp, cnn) are timed as a user
sees them: the mean epoch of a short run, the first epoch included (Marrow's JIT warm-up is in
it; PyTorch's first epoch is in its mean too). vgg and resnet epochs take minutes, so their
training steps are timed instead (median after warm-up). PyTorch runs its best thread setting
from the shared anchors: torch 1 / OpenBLAS 2 for the MLPs, 2 threads for convolutions; for vgg
and resnet both 1 and 2 threads are timed and the faster is kept.

--rounds N alternates Marrow and PyTorch N times per model and prints every round's ratio
and their median: on a shared machine whose speed drifts within minutes, one round's ratio can
be off by 20 %.

--avx2 runs the AVX2 machine kind on an AVX-512 machine: Marrow with -XX:UseAVX=2 (256-bit
vectors), OpenBLAS with its Haswell kernels, oneDNN limited to AVX2 (DNNL_MAX_CPU_ISA).
Without it OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE are unset for PyTorch, so OpenBLAS picks its
own kernels. Needs Debian's python3-torch with libopenblas0-pthread, and the PyTorch anchors
(train.py, vgg_steps.py; MARROW_ANCHORS, default ../shared/anchors/pytorch).
"""
import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
ANCHORS = os.environ.get("MARROW_ANCHORS", os.path.join(ROOT, "..", "shared", "anchors", "pytorch"))
MNIST = os.path.expanduser("~/.cache/marrow/mnist")


def run(cmd, env):
    out = subprocess.run(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if out.returncode != 0:
        sys.exit(f"side-by-side: {' '.join(cmd)} failed ({out.returncode}):\n{out.stdout[-2000:]}")
    return out.stdout


def java_cmd(java, opts, main, *args):
    cp = ":".join([os.path.join(ROOT, "bench/target/marrow-bench-0.1.0-SNAPSHOT.jar"),
                   os.path.join(ROOT, "bench/target/lib/*"),
                   os.path.join(ROOT, "cli/target/marrow-cli-0.1.0-SNAPSHOT.jar"),
                   os.path.join(ROOT, "cli/target/lib/*")])
    # the launcher's JVM options (./marrow), Trainer.fit left to the interpreter as there
    return [java, "--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED",
            "-XX:CompileCommand=quiet", "-XX:CompileCommand=exclude,dev.marrow.engine.train.Trainer::fit",
            *opts, "-cp", cp, main, *args]


def marrow_epochs(java, opts, env, model, batch, epochs):
    with tempfile.TemporaryDirectory() as out:
        text = run(java_cmd(java, opts, "dev.marrow.cli.Main", "train", "--model", model,
                            "--epochs", str(epochs), "--batch-size", str(batch), "--threads", "2",
                            "--no-plots", "--no-progress", "--out", out), env)
    return [float(s) for s in re.findall(r"^Epoch \d+/\d+ - .*? - ([\d.]+)s", text, re.M)]


def torch_epochs(env, task, epochs, threads, blas):
    text = run(["/usr/bin/python3", os.path.join(ANCHORS, "train.py"), task, "--runs", "1",
                "--epochs", str(epochs), "--threads", str(threads), "--blas-threads", str(blas),
                "--no-wait", "--data", MNIST], env)
    return [float(s) for s in re.findall(r"^\s+epoch \d+:\s+([\d.]+) s", text, re.M)]


def marrow_step(java, opts, env, model, batch, steps):
    text = run(java_cmd(java, opts, "dev.marrow.bench.StepTimes", model, str(batch), str(steps)), env)
    return float(re.search(r"median step ([\d.]+) ms", text).group(1))


def torch_vgg_step(env, steps):
    text = run(["/usr/bin/python3", os.path.join(ANCHORS, "vgg_steps.py"), str(steps)], env)
    return min(float(s) for s in re.findall(r"([\d.]+) ms/step", text))


def torch_resnet_step(env, steps):
    best = None
    for threads in (1, 2):
        text = run(["/usr/bin/python3", os.path.join(ROOT, "bench/pytorch/resnet.py"), MNIST,
                    "--threads", str(threads), "--steps", str(steps)], env)
        ms = float(re.search(r"median step ([\d.]+) ms", text).group(1))
        best = ms if best is None else min(best, ms)
    return best


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--avx2", action="store_true")
    ap.add_argument("--java", default=os.environ.get("MARROW_JAVA", "java"))
    ap.add_argument("--rounds", type=int, default=1)
    ap.add_argument("models", nargs="*", default=["mlp32", "mlp128", "cnn", "vgg", "resnet"])
    args = ap.parse_args()
    env = dict(os.environ)
    torch_env = dict(env)
    opts = []
    if args.avx2:
        opts = ["-XX:UseAVX=2"]
        torch_env.update(OPENBLAS_CORETYPE="Haswell", DNNL_MAX_CPU_ISA="AVX2")
        torch_env.pop("OPENBLAS_L2_SIZE", None)
    else:
        torch_env.pop("OPENBLAS_CORETYPE", None)
        torch_env.pop("OPENBLAS_L2_SIZE", None)
    kind = "AVX2 (-XX:UseAVX=2, OpenBLAS Haswell, oneDNN AVX2)" if args.avx2 else "native"
    print(f"# side by side, {kind}, 2 cores")
    print("| work | Marrow | PyTorch best | ratio |")
    print("| --- | --- | --- | --- |")
    for model in args.models:
        rows = [measure(model, args, opts, env, torch_env) for _ in range(args.rounds)]
        label, unit = rows[0][0], rows[0][3]
        if args.rounds == 1:
            _, m, t, _, detail_m, detail_t = rows[0]
            print(f"| {label} | {fmt(m, unit)}{detail_m} | {fmt(t, unit)}{detail_t} | {m / t:.2f}x |",
                  flush=True)
        else:
            ratios = [r[1] / r[2] for r in rows]
            each = ", ".join(f"{r[1] / r[2]:.2f}" for r in rows)
            print(f"| {label}, {args.rounds} rounds | {fmt(statistics.median(r[1] for r in rows), unit)} "
                  f"| {fmt(statistics.median(r[2] for r in rows), unit)} "
                  f"| {statistics.median(ratios):.2f}x ({each}) |", flush=True)


def fmt(value, unit):
    return f"{value:.2f} s" if unit == "s" else f"{value:.0f} ms"


def measure(model, args, opts, env, torch_env):
    """One round of one model: (label, Marrow, PyTorch, unit, Marrow's detail, PyTorch's detail)."""
    if model in ("mlp32", "mlp128", "cnn"):
        batch = {"mlp32": 32, "mlp128": 128, "cnn": 128}[model]
        epochs = 2 if model == "cnn" else 3
        m = marrow_epochs(args.java, opts, env, "cnn" if model == "cnn" else "mlp", batch, epochs)
        if model == "cnn":
            t = torch_epochs(torch_env, "d", epochs, 2, 2)
        else:
            t = torch_epochs(torch_env, "a32" if batch == 32 else "a128", epochs, 1, 2)
        return (f"{model} epoch, mean of {epochs} (first included)", statistics.mean(m),
                statistics.mean(t), "s", f" ({', '.join(f'{x:.2f}' for x in m)})",
                f" ({', '.join(f'{x:.2f}' for x in t)})")
    if model == "vgg":
        return ("vgg training step, batch 128", marrow_step(args.java, opts, env, "vgg", 128, 24),
                torch_vgg_step(torch_env, 20), "ms", "", "")
    if model == "resnet":
        return ("resnet training step, batch 64",
                marrow_step(args.java, opts, env, "resnet", 64, 45),
                torch_resnet_step(torch_env, 40), "ms", "", "")
    sys.exit(f"side-by-side: unknown model {model}; expected mlp32 mlp128 cnn vgg resnet")


if __name__ == "__main__":
    main()
