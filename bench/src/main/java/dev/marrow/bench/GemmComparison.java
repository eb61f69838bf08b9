package dev.marrow.bench;

import java.util.Locale;
import org.openjdk.jmh.results.RunResult;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.options.OptionsBuilder;
import org.openjdk.jmh.runner.options.TimeValue;

/**
 * {@code bench/run --gemm SHAPE [ITERATIONS]}: one GEMM shape, Marrow and OpenBLAS in the same JMH
 * run, long enough to quote (3 × 2 s warm-up, ITERATIONS × 2 s measured, 8 by default). Prints the
 * median times, GFLOP/s, their ratio and Marrow's share of the measured FMA peak. It exists because
 * JMH's {@code -p} splits values at commas, and GEMM shapes are written with them ({@code
 * square:1024,1024,1024,NN}).
 */
public final class GemmComparison {
  private GemmComparison() {}

  public static void main(String[] args) throws Exception {
    if (args.length < 1 || args.length > 2) {
      System.err.println(
          "usage: bench/run --gemm SHAPE [ITERATIONS], e.g. square:1024,1024,1024,NN");
      System.exit(2);
    }
    String shape = args[0];
    int iterations = args.length > 1 ? Integer.parseInt(args[1]) : 8;
    int threads = Runtime.getRuntime().availableProcessors();
    double peak = FmaPeak.measure(threads);
    var options =
        new OptionsBuilder()
            .include(GemmBenchmark.class.getSimpleName() + "\\.")
            .param("shape", shape)
            .warmupIterations(3)
            .warmupTime(TimeValue.seconds(2))
            .measurementIterations(iterations)
            .measurementTime(TimeValue.seconds(2))
            .build();
    Double marrow = null;
    Double openblas = null;
    for (RunResult r : new Runner(options).run()) {
      double micros = r.getPrimaryResult().getStatistics().getPercentile(50);
      double gflops = GemmBenchmark.flops(shape) / micros / 1e3;
      String method = r.getParams().getBenchmark().replaceAll(".*\\.", "");
      System.out.printf(
          Locale.ROOT, "%-9s %s: median %.1f µs, %.1f GFLOP/s%n", method, shape, micros, gflops);
      if (method.equals("marrow")) {
        marrow = gflops;
      } else {
        openblas = gflops;
      }
    }
    if (marrow != null) {
      System.out.printf(
          Locale.ROOT,
          "Marrow: %.1f %% of the %.0f GFLOP/s FMA peak (%d threads)%s%n",
          100 * marrow / peak,
          peak,
          threads,
          openblas == null
              ? ""
              : String.format(Locale.ROOT, ", %.2f× OpenBLAS", marrow / openblas));
    }
  }
}
