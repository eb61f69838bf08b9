package dev.marrow.cli;

import dev.marrow.engine.backend.Backend;
import dev.marrow.engine.train.Evaluation;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code marrow evaluate --model RUN_DIR}: loss, metrics, per-class or per-target figures. */
@Command(
    name = "evaluate",
    mixinStandardHelpOptions = true,
    sortOptions = false,
    description =
        "Evaluate a trained model (a run folder) on its data's test set (or on --data):"
            + " loss, metrics, and per-class precision/recall or per-target errors.")
final class EvaluateCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Mixin DeviceOptions device = new DeviceOptions();

  @Option(
      names = "--model",
      required = true,
      paramLabel = "RUN_DIR",
      description =
          "A run folder written by 'marrow train' (holds model.json and" + " model.safetensors).")
  Path model;

  @Option(
      names = "--logits",
      paramLabel = "FILE",
      description =
          "Also write the logits of the first 16 test images to FILE (JSON), for"
              + " checking the saved model elsewhere (models/src/test/python/check_saved_model.py).")
  Path logits;

  @Mixin DataOptions data;

  @Override
  public Integer call() {
    var out = spec.commandLine().getOut();
    data.defaultTo(RunData.settings(model));
    TrainingData d = data.load(spec.commandLine().getErr(), RunData.seed(model));
    try (Backend backend =
        device.open(Runtime.getRuntime().availableProcessors(), spec.commandLine().getErr())) {
      RunModel run = RunModel.load(model, backend);
      Evaluation e;
      try {
        e = run.trainer().evaluate(d.test());
      } catch (IllegalArgumentException ex) {
        throw new UserError("--model " + model + ": " + ex.getMessage(), ex);
      }
      switch (run.task()) {
        case CLASSIFICATION -> perClass(out, run.predictAll(d.test()), run.model.classNames());
        case REGRESSION ->
            perTarget(
                out,
                run.valuesAll(d.test()),
                run.model.dataDescription().getOrDefault("target_columns", List.of()));
        case MULTI_LABEL -> {}
      }
      if (logits != null) {
        writeLogits(run, d);
      }
      out.println(TrainCommand.testLine(e));
    }
    out.flush();
    return 0;
  }

  private static void perClass(PrintWriter out, RunModel.Predictions p, List<String> names) {
    out.printf(
        Locale.ROOT, "%-12s %9s %9s %9s %8s%n", "class", "precision", "recall", "f1", "support");
    int k = p.confusion().length;
    for (int c = 0; c < k; c++) {
      int tp = p.confusion()[c][c], predicted = 0, actual = 0;
      for (int o = 0; o < k; o++) {
        predicted += p.confusion()[o][c];
        actual += p.confusion()[c][o];
      }
      double precision = predicted == 0 ? 0 : (double) tp / predicted;
      double recall = actual == 0 ? 0 : (double) tp / actual;
      double f1 = precision + recall == 0 ? 0 : 2 * precision * recall / (precision + recall);
      String name = names.size() == k ? names.get(c) : String.valueOf(c);
      out.printf(Locale.ROOT, "%-12s %9.4f %9.4f %9.4f %8d%n", name, precision, recall, f1, actual);
    }
  }

  /** MAE, RMSE and R² (1 − SSE/SST, the share of the variance explained) per target column. */
  private static void perTarget(PrintWriter out, RunModel.Values v, List<String> names) {
    out.printf(Locale.ROOT, "%-16s %10s %10s %8s%n", "target", "mae", "rmse", "r2");
    int m = v.targets(), n = v.truth().length / m;
    for (int t = 0; t < m; t++) {
      double mean = 0, abs = 0, sse = 0, sst = 0;
      for (int i = 0; i < n; i++) {
        mean += v.truth()[i * m + t] / (double) n;
      }
      for (int i = 0; i < n; i++) {
        double err = v.predicted()[i * m + t] - v.truth()[i * m + t];
        double dev = v.truth()[i * m + t] - mean;
        abs += Math.abs(err);
        sse += err * err;
        sst += dev * dev;
      }
      String name = names.size() == m ? names.get(t) : "target " + t;
      out.printf(
          Locale.ROOT,
          "%-16s %10.4f %10.4f %8.4f%n",
          name,
          abs / n,
          Math.sqrt(sse / n),
          sst == 0 ? Double.NaN : 1 - sse / sst);
    }
  }

  private void writeLogits(RunModel run, TrainingData d) {
    int count = Math.min(16, d.test().size());
    dev.marrow.engine.tensor.Tensor l = run.trainer().predictor().predict(d.test().range(0, count));
    int classes = l.shape().dim(-1);
    java.util.List<java.util.List<Float>> rows = new java.util.ArrayList<>();
    for (int i = 0; i < count; i++) {
      java.util.List<Float> row = new java.util.ArrayList<>();
      for (int c = 0; c < classes; c++) {
        row.add(l.get(i * classes + c));
      }
      rows.add(row);
    }
    try {
      dev.marrow.engine.io.AtomicFiles.write(
          logits,
          new com.fasterxml.jackson.databind.ObjectMapper()
              .writeValueAsBytes(java.util.Map.of("logits", rows)));
    } catch (java.io.IOException e) {
      throw new UserError("cannot write --logits " + logits + ": " + e.getMessage(), e);
    }
  }
}
