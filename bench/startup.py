#!/usr/bin/python3
"""JVM start to the first training step, with and without the launcher's start-up cache.

    bench/run --startup [ROUNDS]        (default 6; MNIST cached: ./marrow train fetched it once)

Alternates ROUNDS times three runs of `./marrow train --model mlp --batch-size 128 --epochs 1`:
without the cache (MARROW_AOT=0), with its classes but not its profiles
(-XX:-AOTReplayTraining: what JEP 483 alone buys), and with the whole cache (JEP 515's
profiles too). Prints each run's metrics.json `startup_seconds` (from the JVM's start, which
the launcher passes to it, to the start of training), its first epoch and the command's wall
clock (the launcher included), then the medians. The launcher records
the cache first if the build is newer than it.
"""
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MODES = [
    ("no cache", {"MARROW_AOT": "0"}, ""),
    ("classes only", {"MARROW_AOT": "1"},
     "-XX:+UnlockDiagnosticVMOptions -XX:-AOTReplayTraining"),
    ("whole cache", {"MARROW_AOT": "1"}, ""),
]


def run(extra_env, java_opts):
    env = dict(os.environ, **extra_env)
    env["MARROW_JAVA_OPTS"] = (env.get("MARROW_JAVA_OPTS", "") + " " + java_opts).strip()
    with tempfile.TemporaryDirectory() as out:
        start = time.monotonic()
        p = subprocess.run([os.path.join(ROOT, "marrow"), "train", "--model", "mlp",
                            "--batch-size", "128", "--epochs", "1", "--no-plots", "--no-progress",
                            "--out", out], env=env, stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, text=True)
        wall = time.monotonic() - start
        if p.returncode != 0:
            sys.exit(f"startup: marrow train failed ({p.returncode}):\n{p.stdout[-2000:]}")
        with open(os.path.join(out, "metrics.json")) as f:
            m = json.load(f)
    return m["startup_seconds"], m["epochs"][0]["seconds"], wall


def main():
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 6
    subprocess.run([os.path.join(ROOT, "marrow"), "--version"], check=True,
                   stdout=subprocess.DEVNULL)  # builds and records the cache if needed
    results = {name: [] for name, _, _ in MODES}
    for r in range(rounds):
        for name, env, opts in MODES:
            s, e, w = run(env, opts)
            results[name].append((s, e, w))
            print(f"round {r + 1} {name:>12}: start-up {s:.3f} s, first epoch {e:.2f} s, "
                  f"wall {w:.2f} s", flush=True)
    print(f"\n| {rounds} alternated runs, medians | JVM start to training | first epoch | wall clock |")
    print("| --- | --- | --- | --- |")
    for name, _, _ in MODES:
        cols = list(zip(*results[name]))
        print(f"| {name} | {statistics.median(cols[0]):.3f} s ({min(cols[0]):.3f}-{max(cols[0]):.3f}) "
              f"| {statistics.median(cols[1]):.2f} s | {statistics.median(cols[2]):.2f} s |")


if __name__ == "__main__":
    main()
