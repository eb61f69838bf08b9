package dev.marrow.bench;

import static dev.marrow.bench.Stats.median;
import static dev.marrow.bench.Stats.quantile;

import java.util.Locale;

/**
 * {@code bench/run --gemm SHAPE [ROUNDS] --alternate}: one GEMM shape, Marrow and OpenBLAS taking
 * turns in one JVM, a burst of at least {@link #BURST_NANOS} each, their order swapped every round;
 * prints the median GFLOP/s of each and the median of the rounds' ratios.
 *
 * <p>Why, beside the JMH comparison: JMH runs one benchmark after the other, and this project's
 * shared machines change speed for seconds at a time (the same 4 × 2-vector kernel, alone in L1,
 * measured 60-70 GFLOP/s in one minute and 100-106 in the next). A ratio of two runs tens of
 * seconds apart then measures the machine (the AVX2 kind's 1024³ ratio ranged over 0.47-0.89×); two
 * bursts half a second apart share its speed, and the median of many such pairs does not depend on
 * which of them landed in a slow spell.
 */
public final class GemmAlternation {
  /**
   * Shortest burst of one library's calls: long enough for many calls, short beside a slow spell.
   */
  static final long BURST_NANOS = 250_000_000L;

  private GemmAlternation() {}

  /** Alternates {@code rounds} times after 1 s of warm-up each; exit status 2 without OpenBLAS. */
  public static void main(String[] args) {
    if (args.length < 1 || args.length > 2) {
      System.err.println("usage: bench/run --gemm SHAPE [ROUNDS] --alternate");
      System.exit(2);
    }
    GemmBenchmark bench = new GemmBenchmark();
    bench.shape = args[0];
    bench.threads = Runtime.getRuntime().availableProcessors();
    int rounds = args.length > 1 ? Integer.parseInt(args[1]) : 20;
    bench.setUp();
    try {
      if (!bench.hasOpenblas()) {
        System.err.println("no OpenBLAS to alternate with (see the message above)");
        System.exit(2);
      }
      double flops = GemmBenchmark.flops(bench.shape);
      for (int warm = 0; warm < 8; warm++) {
        burst(bench, warm % 2 == 0);
      }
      double[] marrow = new double[rounds];
      double[] openblas = new double[rounds];
      double[] ratios = new double[rounds];
      for (int r = 0; r < rounds; r++) {
        boolean marrowFirst = r % 2 == 0;
        double first = burst(bench, marrowFirst);
        double second = burst(bench, !marrowFirst);
        marrow[r] = flops / (marrowFirst ? first : second) / 1e9;
        openblas[r] = flops / (marrowFirst ? second : first) / 1e9;
        ratios[r] = marrow[r] / openblas[r];
      }
      System.out.printf(
          Locale.ROOT,
          "%s, %d threads, %d alternations: Marrow %.1f GFLOP/s, OpenBLAS %.1f (medians);"
              + " ratio %.2f× (median of the rounds; quartiles %.2f-%.2f, range %.2f-%.2f)%n",
          bench.shape,
          bench.threads,
          rounds,
          median(marrow),
          median(openblas),
          median(ratios),
          quantile(ratios, 0.25),
          quantile(ratios, 0.75),
          quantile(ratios, 0),
          quantile(ratios, 1));
    } finally {
      bench.tearDown();
    }
  }

  /** Seconds per product over a burst of Marrow's ({@code marrow}) or OpenBLAS's calls. */
  private static double burst(GemmBenchmark bench, boolean marrow) {
    long start = System.nanoTime(), now;
    int calls = 0;
    do {
      if (marrow) {
        bench.marrow();
      } else {
        bench.openblasProduct();
      }
      calls++;
      now = System.nanoTime();
    } while (now - start < BURST_NANOS);
    return (now - start) / 1e9 / calls;
  }
}
