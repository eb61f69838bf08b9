package dev.marrow.bench;

import dev.marrow.engine.backend.cpu.Vectors;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * The machine's FP32 FMA throughput as the Vector API sees it: each thread runs independent FMA
 * chains on the preferred species, no memory traffic. The denominator of every "% of peak" the
 * quick runner prints, checked against a C reference compiled with -march=native in the same run
 * ({@code bench/run --peak}, src/main/c/fma_peak.c).
 *
 * <p>Chains: FMA latency (4 cycles on Zen 3 and Skylake-X) × 2 FMA ports = 8 must be in flight;
 * 512-bit vectors (AVX-512: 32 registers) take 16, 256-bit ones (AVX2: 16 registers, two of them
 * for the operands) 12, which also covers a 5-cycle latency.
 */
public final class FmaPeak {
  private static final VectorSpecies<Float> S = Vectors.FLOAT;

  /** Independent chains per thread for the preferred species (see the class comment). */
  private static final int INNER = 1 << 20;

  static final int CHAINS = S.length() >= 16 ? 16 : 12;

  private FmaPeak() {}

  /** {@code java … dev.marrow.bench.FmaPeak [THREADS]}: prints the peak, for bench/run --peak. */
  public static void main(String[] args) throws InterruptedException {
    int threads = args.length > 0 ? Integer.parseInt(args[0]) : 1;
    System.out.printf(
        java.util.Locale.ROOT,
        "GFLOPS %.1f lanes %d chains %d threads %d%n",
        measure(threads),
        S.length(),
        CHAINS,
        threads);
  }

  /** GFLOP/s over {@code threads} threads, best of a few short runs. */
  public static double measure(int threads) throws InterruptedException {
    double best = 0;
    // Rep 0 warms up (the loop is first run interpreted, then through on-stack replacement: with
    // 256-bit vectors that cost up to a third of the rate), the best of the rest counts.
    for (int rep = 0; rep < 8; rep++) {
      long iterations = 20_000_000;
      Thread[] ts = new Thread[threads];
      float[] sink = new float[threads];
      long start = System.nanoTime();
      for (int t = 0; t < threads; t++) {
        int id = t;
        ts[t] =
            new Thread(() -> sink[id] = CHAINS == 16 ? chains16(iterations) : chains(iterations));
        ts[t].start();
      }
      for (Thread t : ts) {
        t.join();
      }
      double seconds = (System.nanoTime() - start) / 1e9;
      double flops = 2.0 * CHAINS * S.length() * iterations * threads;
      best = rep == 0 ? best : Math.max(best, flops / seconds / 1e9);
    }
    return best;
  }

  private static float chains16(long iterations) {
    FloatVector x = FloatVector.broadcast(S, 1.0000001f), y = FloatVector.broadcast(S, 0.9999999f);
    FloatVector a0 = x, a1 = x, a2 = x, a3 = x, a4 = x, a5 = x, a6 = x, a7 = x;
    FloatVector a8 = y, a9 = y, a10 = y, a11 = y, a12 = y, a13 = y, a14 = y, a15 = y;
    // An int loop inside: C2 unrolls it and drops the per-iteration safepoint poll that a long
    // loop keeps (256-bit, one core: 88 → 99 GFLOP/s).
    for (long o = 0; o < iterations; o += INNER) {
      for (int i = 0, n = (int) Math.min(INNER, iterations - o); i < n; i++) {
        a0 = a0.fma(x, y);
        a1 = a1.fma(x, y);
        a2 = a2.fma(x, y);
        a3 = a3.fma(x, y);
        a4 = a4.fma(x, y);
        a5 = a5.fma(x, y);
        a6 = a6.fma(x, y);
        a7 = a7.fma(x, y);
        a8 = a8.fma(y, x);
        a9 = a9.fma(y, x);
        a10 = a10.fma(y, x);
        a11 = a11.fma(y, x);
        a12 = a12.fma(y, x);
        a13 = a13.fma(y, x);
        a14 = a14.fma(y, x);
        a15 = a15.fma(y, x);
      }
    }
    return a0.add(a1)
        .add(a2)
        .add(a3)
        .add(a4)
        .add(a5)
        .add(a6)
        .add(a7)
        .add(a8.add(a9).add(a10).add(a11).add(a12).add(a13).add(a14).add(a15))
        .reduceLanes(jdk.incubator.vector.VectorOperators.ADD);
  }

  private static float chains(long iterations) {
    FloatVector x = FloatVector.broadcast(S, 1.0000001f), y = FloatVector.broadcast(S, 0.9999999f);
    FloatVector a0 = x, a1 = x, a2 = x, a3 = x, a4 = x, a5 = x;
    FloatVector a6 = y, a7 = y, a8 = y, a9 = y, a10 = y, a11 = y;
    // An int loop inside: C2 unrolls it and drops the per-iteration safepoint poll that a long
    // loop keeps (256-bit, one core: 88 → 99 GFLOP/s).
    for (long o = 0; o < iterations; o += INNER) {
      for (int i = 0, n = (int) Math.min(INNER, iterations - o); i < n; i++) {
        a0 = a0.fma(x, y);
        a1 = a1.fma(x, y);
        a2 = a2.fma(x, y);
        a3 = a3.fma(x, y);
        a4 = a4.fma(x, y);
        a5 = a5.fma(x, y);
        a6 = a6.fma(y, x);
        a7 = a7.fma(y, x);
        a8 = a8.fma(y, x);
        a9 = a9.fma(y, x);
        a10 = a10.fma(y, x);
        a11 = a11.fma(y, x);
      }
    }
    return a0.add(a1)
        .add(a2)
        .add(a3)
        .add(a4)
        .add(a5)
        .add(a6)
        .add(a7)
        .add(a8)
        .add(a9)
        .add(a10)
        .add(a11)
        .reduceLanes(jdk.incubator.vector.VectorOperators.ADD);
  }
}
