package dev.marrow.bench;

import dev.marrow.engine.backend.cpu.Vectors;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * The machine's FP32 FMA throughput as the Vector API sees it: each thread runs 12 independent FMA
 * chains on the preferred species (enough to hide FMA latency), no memory traffic. The denominator
 * of every "% of peak" the quick runner prints.
 */
public final class FmaPeak {
  private static final VectorSpecies<Float> S = Vectors.FLOAT;

  private FmaPeak() {}

  /** GFLOP/s over {@code threads} threads, best of a few short runs. */
  public static double measure(int threads) throws InterruptedException {
    double best = 0;
    for (int rep = 0; rep < 5; rep++) {
      long iterations = 20_000_000;
      Thread[] ts = new Thread[threads];
      float[] sink = new float[threads];
      long start = System.nanoTime();
      for (int t = 0; t < threads; t++) {
        int id = t;
        ts[t] = new Thread(() -> sink[id] = chains(iterations));
        ts[t].start();
      }
      for (Thread t : ts) {
        t.join();
      }
      double seconds = (System.nanoTime() - start) / 1e9;
      double flops = 2.0 * 12 * S.length() * iterations * threads;
      best = Math.max(best, flops / seconds / 1e9);
    }
    return best;
  }

  private static float chains(long iterations) {
    FloatVector x = FloatVector.broadcast(S, 1.0000001f), y = FloatVector.broadcast(S, 0.9999999f);
    FloatVector a0 = x, a1 = x, a2 = x, a3 = x, a4 = x, a5 = x;
    FloatVector a6 = y, a7 = y, a8 = y, a9 = y, a10 = y, a11 = y;
    for (long i = 0; i < iterations; i++) {
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
