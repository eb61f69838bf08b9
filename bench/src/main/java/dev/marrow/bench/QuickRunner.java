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
import org.openjdk.jmh.results.RunResult;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.options.ChainedOptionsBuilder;
import org.openjdk.jmh.runner.options.OptionsBuilder;
import org.openjdk.jmh.runner.options.TimeValue;

/**
 * {@code bench/run --quick} (a few minutes) or {@code --full}: runs the GEMM, convolution and
 * training-step benchmarks, prints one table (Marrow, the reference measured in the same run,
 * their ratio, % of the FMA peak) and writes {@code bench/results/latest.json} as
 * {@code [{"name", "unit", "marrow", "reference", "ratio"}]}.
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

    String[] gemmShapes = full ? null : new String[] {"square:256,256,256,NN",
        "square:1024,1024,1024,NN", "mlp.fwd:32,128,784,NN", "mlp.dW:784,128,32,TN",
        "mlp.fwd128:128,128,784,NN", "cnn.conv2.fwd:32,64,400,NN",
        "vgg.conv2.fwd:32,784,288,NN"};
    Map<String, double[]> gemm = new LinkedHashMap<>();
    for (RunResult r : run(GemmBenchmark.class, "shape", gemmShapes, full)) {
      String shape = r.getParams().getParam("shape");
      String method = r.getPrimaryResult().getLabel();
      double gflops = GemmBenchmark.flops(shape) / r.getPrimaryResult().getScore() / 1e3;
      gemm.computeIfAbsent(shape, s -> new double[] {Double.NaN, Double.NaN})
          [method.equals("marrow") ? 0 : 1] = gflops;
    }
    gemm.forEach((shape, v) -> rows.add(new Row("sgemm " + shape, "GFLOP/s", v[0],
        Double.isNaN(v[1]) ? null : v[1], Double.isNaN(v[1]) ? null : v[0] / v[1])));

    String[] convShapes = full ? null : new String[] {"cnn.conv2:16,12,12,32,5,0",
        "vgg.conv2:32,28,28,32,3,1"};
    Map<String, double[]> conv = new LinkedHashMap<>();
    for (RunResult r : run(ConvBenchmark.class, "layer", convShapes, full)) {
      String layer = r.getParams().getParam("layer");
      conv.computeIfAbsent(layer, s -> new double[2])
          [r.getPrimaryResult().getLabel().equals("im2colGemm") ? 0 : 1] =
          r.getPrimaryResult().getScore();
    }
    conv.forEach((layer, v) -> rows.add(new Row("conv fwd " + layer + " (ref: direct)", "ms",
        v[0], v[1], v[1] / v[0])));

    for (RunResult r : run(TrainStepBenchmark.class, "model", full ? null
        : new String[] {"mlp", "cnn"}, full)) {
      rows.add(new Row(r.getPrimaryResult().getLabel() + " " + r.getParams().getParam("model")
          + " batch " + r.getParams().getParam("batch"), "µs", r.getPrimaryResult().getScore(),
          null, null));
    }
    print(rows, peak);
    Files.createDirectories(out.getParent());
    Files.write(out, new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT)
        .writeValueAsBytes(rows));
    System.out.println("wrote " + out);
  }

  private static Collection<RunResult> run(Class<?> benchmark, String param, String[] values,
      boolean full) throws Exception {
    ChainedOptionsBuilder o = new OptionsBuilder().include(benchmark.getSimpleName() + "\\.")
        .shouldFailOnError(false);
    if (values != null) {
      o.param(param, values);
    }
    if (!full) {
      o.warmupIterations(2).warmupTime(TimeValue.milliseconds(500)).measurementIterations(3)
          .measurementTime(TimeValue.milliseconds(500));
    }
    return new Runner(o.build()).run();
  }

  private static void print(List<Row> rows, double peak) {
    System.out.println();
    System.out.printf(Locale.ROOT, "%-52s %-8s %10s %10s %7s %7s%n", "benchmark", "unit",
        "marrow", "reference", "ratio", "%peak");
    for (Row r : rows) {
      String pct = r.unit().equals("GFLOP/s") && !r.name().startsWith("fma")
          ? String.format(Locale.ROOT, "%6.1f%%", 100 * r.marrow() / peak) : "";
      System.out.printf(Locale.ROOT, "%-52s %-8s %10.2f %10s %7s %7s%n", r.name(), r.unit(),
          r.marrow(), r.reference() == null ? "-" : String.format(Locale.ROOT, "%.2f",
              r.reference()), r.ratio() == null ? "-" : String.format(Locale.ROOT, "%.2f",
              r.ratio()), pct);
    }
  }
}
