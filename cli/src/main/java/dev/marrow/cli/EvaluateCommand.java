package dev.marrow.cli;

import dev.marrow.engine.backend.Backend;
import dev.marrow.engine.train.Evaluation;
import dev.marrow.models.mnist.Mnist;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code marrow evaluate --model RUN_DIR}: loss, accuracy and per-class precision/recall. */
@Command(
    name = "evaluate",
    mixinStandardHelpOptions = true,
    sortOptions = false,
    description = "Evaluate a trained model (a run folder) on the MNIST test set.")
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
    Mnist.Split mnist = data.load(spec.commandLine().getErr());
    try (Backend backend =
        device.open(Runtime.getRuntime().availableProcessors(), spec.commandLine().getErr())) {
      RunModel run = RunModel.load(model, backend);
      Evaluation e = run.trainer().evaluate(mnist.test());
      RunModel.Predictions p = run.predictAll(mnist.test());
      out.printf(
          Locale.ROOT, "%-6s %9s %9s %9s %8s%n", "class", "precision", "recall", "f1", "support");
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
        out.printf(Locale.ROOT, "%-6d %9.4f %9.4f %9.4f %8d%n", c, precision, recall, f1, actual);
      }
      if (logits != null) {
        writeLogits(run, mnist);
      }
      out.printf(Locale.ROOT, "test_accuracy=%.4f test_loss=%.4f%n", e.accuracy(), e.loss());
    }
    out.flush();
    return 0;
  }

  private void writeLogits(RunModel run, Mnist.Split mnist) {
    dev.marrow.engine.tensor.Tensor l = run.trainer().predict(mnist.test().slice(0, 16).features());
    int classes = l.shape().dim(-1);
    java.util.List<java.util.List<Float>> rows = new java.util.ArrayList<>();
    for (int i = 0; i < 16; i++) {
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
