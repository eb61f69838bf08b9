package dev.marrow.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.openjdk.jmh.profile.GCProfiler;
import org.openjdk.jmh.profile.Profiler;
import org.openjdk.jmh.results.RunResult;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.options.ChainedOptionsBuilder;
import org.openjdk.jmh.runner.options.OptionsBuilder;
import org.openjdk.jmh.runner.options.TimeValue;

/**
 * {@code bench/run --quick} (a few minutes) or {@code --full}: runs the GEMM, convolution, kernel,
 * inference and training-step benchmarks, prints one table (Marrow, the reference measured in the
 * same run, their ratio, % of the FMA peak; allocation per training step from JMH's GC profiler)
 * and writes {@code bench/results/latest.json} as {@code [{"name", "unit", "marrow", "reference",
 * "ratio"}]}.
 */
public final class QuickRunner {
  /** One row of the table and of latest.json. */
  public record Row(String name, String unit, double marrow, Double reference, Double ratio) {}

  private QuickRunner() {}

  public static void main(String[] args) throws Exception {
    boolean full = List.of(args).contains("--full");
    Path out = Path.of("bench", "results", "latest.json");
    int threads = Runtime.getRuntime().availableProcessors();
    double peak = FmaPeak.measure(threads);
    List<Row> rows = new ArrayList<>();
    rows.add(new Row("fma peak (" + threads + " threads)", "GFLOP/s", peak, null, null));

    String[] gemmShapes =
        full
            ? null
            : new String[] {
              "square:256,256,256,NN",
              "square:1024,1024,1024,NN",
              "mlp.fwd:32,128,784,NN",
              "mlp.dW:784,128,32,TN",
              "mlp.fwd128:128,128,784,NN",
              "cnn.conv2.fwd:32,64,400,NN",
              "vgg.conv2.fwd:32,784,288,NN"
            };
    Map<String, double[]> gemm = new LinkedHashMap<>();
    for (RunResult r : run(GemmBenchmark.class, "shape", gemmShapes, full)) {
      String shape = r.getParams().getParam("shape");
      String method = r.getPrimaryResult().getLabel();
      double gflops = GemmBenchmark.flops(shape) / r.getPrimaryResult().getScore() / 1e3;
      gemm.computeIfAbsent(shape, s -> new double[] {Double.NaN, Double.NaN})[
              method.equals("marrow") ? 0 : 1] =
          gflops;
    }
    gemm.forEach(
        (shape, v) ->
            rows.add(
                new Row(
                    "sgemm " + shape,
                    "GFLOP/s",
                    v[0],
                    Double.isNaN(v[1]) ? null : v[1],
                    Double.isNaN(v[1]) ? null : v[0] / v[1])));

    String[] convShapes =
        full ? null : new String[] {"cnn.conv2:16,12,12,32,5,0", "vgg.conv2:32,28,28,32,3,1"};
    Map<String, double[]> direct = new LinkedHashMap<>();
    List<RunResult> convResults =
        new ArrayList<>(run(ConvBenchmark.class, "layer", convShapes, full));
    for (RunResult r : convResults) {
      if (r.getPrimaryResult().getLabel().equals("direct")) {
        direct.put(r.getParams().getParam("layer"), new double[] {r.getPrimaryResult().getScore()});
      }
    }
    for (RunResult r : convResults) {
      String layer = r.getParams().getParam("layer"), pass = r.getPrimaryResult().getLabel();
      if (pass.equals("direct")) {
        continue;
      }
      double gflops =
          ConvBenchmark.flops(ConvBenchmark.geometry(layer, 128))
              / r.getPrimaryResult().getScore()
              / 1e6;
      double[] d = pass.equals("im2colGemm") ? direct.get(layer) : null;
      Double ref =
          d == null ? null : ConvBenchmark.flops(ConvBenchmark.geometry(layer, 128)) / d[0] / 1e6;
      rows.add(
          new Row(
              "conv " + pass + " " + layer + (d == null ? "" : " (ref: direct)"),
              "GFLOP/s",
              gflops,
              ref,
              ref == null ? null : gflops / ref));
    }

    Map<String, double[]> kernels = new LinkedHashMap<>();
    for (RunResult r : run(KernelBenchmark.class, "kernel", null, full)) {
      kernels
              .computeIfAbsent(r.getParams().getParam("kernel"), k -> new double[2])[
              r.getPrimaryResult().getLabel().equals("marrow") ? 0 : 1] =
          r.getPrimaryResult().getScore();
    }
    kernels.forEach(
        (k, v) -> rows.add(new Row(k + " (ref: scalar reference)", "µs", v[0], v[1], v[1] / v[0])));

    for (RunResult r : run(InferenceBenchmark.class, "model", null, full)) {
      int batch = Integer.parseInt(r.getParams().getParam("batch"));
      rows.add(
          new Row(
              "inference " + r.getParams().getParam("model") + " batch " + batch,
              "images/s",
              batch * 1e6 / r.getPrimaryResult().getScore(),
              null,
              null));
    }

    for (RunResult r :
        run(
            TrainStepBenchmark.class,
            "model",
            full ? null : new String[] {"mlp", "cnn"},
            full,
            GCProfiler.class)) {
      String name =
          r.getPrimaryResult().getLabel()
              + " "
              + r.getParams().getParam("model")
              + " batch "
              + r.getParams().getParam("batch");
      rows.add(new Row(name, "µs", r.getPrimaryResult().getScore(), null, null));
      var alloc = r.getSecondaryResults().get("gc.alloc.rate.norm");
      if (alloc != null) {
        rows.add(new Row(name + " allocation", "B/op", alloc.getScore(), null, null));
      }
    }
    print(rows, peak);
    Files.createDirectories(out.getParent());
    Files.write(
        out, new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValueAsBytes(rows));
    System.out.println("wrote " + out);
  }

  private static Collection<RunResult> run(
      Class<?> benchmark, String param, String[] values, boolean full, Class<?>... profilers)
      throws Exception {
    ChainedOptionsBuilder o =
        new OptionsBuilder().include(benchmark.getSimpleName() + "\\.").shouldFailOnError(false);
    for (Class<?> p : profilers) {
      o.addProfiler(p.asSubclass(Profiler.class));
    }
    if (values != null) {
      o.param(param, values);
    }
    if (!full) {
      // Whole training steps need a few seconds before C2 has compiled every kernel: until then
      // the Vector API runs boxed and allocates, which would show as allocation per step.
      boolean steps = benchmark == TrainStepBenchmark.class;
      o.warmupIterations(steps ? 4 : 2)
          .warmupTime(TimeValue.milliseconds(steps ? 1000 : 500))
          .measurementIterations(3)
          .measurementTime(TimeValue.milliseconds(steps ? 1000 : 500));
    }
    return new Runner(o.build()).run();
  }

  private static void print(List<Row> rows, double peak) {
    System.out.println();
    System.out.printf(
        Locale.ROOT,
        "%-52s %-8s %10s %10s %7s %7s%n",
        "benchmark",
        "unit",
        "marrow",
        "reference",
        "ratio",
        "%peak");
    for (Row r : rows) {
      String pct =
          r.unit().equals("GFLOP/s") && !r.name().startsWith("fma")
              ? String.format(Locale.ROOT, "%6.1f%%", 100 * r.marrow() / peak)
              : "";
      System.out.printf(
          Locale.ROOT,
          "%-52s %-8s %10.2f %10s %7s %7s%n",
          r.name(),
          r.unit(),
          r.marrow(),
          r.reference() == null ? "-" : String.format(Locale.ROOT, "%.2f", r.reference()),
          r.ratio() == null ? "-" : String.format(Locale.ROOT, "%.2f", r.ratio()),
          pct);
    }
  }
}
