package dev.marrow.cli;

import dev.marrow.engine.backend.Backend;
import dev.marrow.engine.nn.Graph;
import dev.marrow.engine.tensor.Shape;
import dev.marrow.engine.tensor.Tensor;
import dev.marrow.engine.train.Classification;
import dev.marrow.models.data.CsvTable;
import dev.marrow.models.mnist.DigitImages;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.stream.Stream;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code marrow predict --model RUN_DIR IMAGE...} or {@code --data csv:FILE}: the model's
 * predictions, one line per image or table row.
 */
@Command(
    name = "predict",
    mixinStandardHelpOptions = true,
    description = {
      "Predict with a trained model: a class and the top-3 probabilities per image, or one line"
          + " per row of a CSV table (values for regression, class and probability for"
          + " classification; the target columns may be absent).",
      "A digit model converts any PNG/JPEG as MNIST was made (grayscale, digit light on dark,"
          + " fitted into 20×20 and centred by mass in 28×28); a model trained on an image"
          + " folder resizes images as it was trained."
    })
final class PredictCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Mixin DeviceOptions device = new DeviceOptions();

  @Option(
      names = "--model",
      required = true,
      paramLabel = "RUN_DIR",
      description = "A run folder written by 'marrow train'.")
  Path model;

  @Option(
      names = "--data",
      paramLabel = "SPEC",
      description =
          "csv:FILE (a table with the feature columns the model was trained on) or images:DIR"
              + " (every PNG/JPEG under DIR, in name order).")
  String data;

  @Parameters(arity = "0..*", paramLabel = "IMAGE", description = "Image files.")
  List<Path> images = List.of();

  @Override
  public Integer call() {
    if ((data == null) == images.isEmpty()) {
      throw new UserError("give image files or --data csv:FILE (one of them)");
    }
    var out = spec.commandLine().getOut();
    try (Backend backend =
        device.open(Runtime.getRuntime().availableProcessors(), spec.commandLine().getErr())) {
      RunModel run = RunModel.load(model, backend);
      if (data != null && data.startsWith("images:")) {
        images = imagesUnder(Path.of(data.substring(7)));
        predictImages(out, run);
      } else if (data != null) {
        predictTable(out, run);
      } else {
        predictImages(out, run);
      }
    }
    out.flush();
    return 0;
  }

  private static List<Path> imagesUnder(Path dir) {
    if (!Files.isDirectory(dir)) {
      throw new UserError("--data images:" + dir + ": no such directory");
    }
    try (Stream<Path> files = Files.walk(dir)) {
      List<Path> found =
          files
              .filter(Files::isRegularFile)
              .filter(
                  f ->
                      f.getFileName()
                          .toString()
                          .toLowerCase(Locale.ROOT)
                          .matches(".*\\.(png|jpe?g)"))
              .sorted()
              .toList();
      if (found.isEmpty()) {
        throw new UserError("--data images:" + dir + ": no PNG or JPEG files under it");
      }
      return found;
    } catch (IOException e) {
      throw new UserError("--data images:" + dir + ": " + e.getMessage(), e);
    }
  }

  private void predictTable(PrintWriter out, RunModel run) {
    if (!data.startsWith("csv:")) {
      throw new UserError("--data takes csv:FILE or images:DIR here, got '" + data + "'");
    }
    Graph g = run.model;
    List<String> features = g.dataDescription().get("feature_columns");
    if (features == null) {
      throw new UserError("--model " + model + " was not trained on a table (no feature columns)");
    }
    Path file = Path.of(data.substring(4));
    Tensor x;
    try {
      x = CsvTable.readFeatures(file, features);
    } catch (IOException e) {
      throw new UserError(e.getMessage(), e);
    }
    int n = x.shape().dim(0);
    List<String> targets = g.dataDescription().getOrDefault("target_columns", List.of());
    if (run.task() == TrainingData.Task.CLASSIFICATION) {
      List<List<Classification>> top = run.trainer().predictor().classify(x, 1);
      for (int i = 0; i < n; i++) {
        out.printf("row %d: %s%n", i + 1, top.get(i).get(0));
      }
      return;
    }
    float[] y = run.trainer().predictor().predict(x).array();
    int m = y.length / n;
    for (int i = 0; i < n; i++) {
      StringBuilder line = new StringBuilder("row " + (i + 1) + ":");
      for (int t = 0; t < m; t++) {
        String name = targets.size() == m ? targets.get(t) : "output " + t;
        float v = y[i * m + t];
        if (run.task() == TrainingData.Task.MULTI_LABEL) {
          v = (float) (1 / (1 + Math.exp(-v))); // the probability of the label
        }
        line.append(String.format(Locale.ROOT, " %s=%.4f", name, v));
      }
      out.println(line);
    }
  }

  private void predictImages(PrintWriter out, RunModel run) {
    Graph g = run.model;
    Shape expected = g.inputShape();
    List<String> source = g.dataDescription().getOrDefault("source", List.of());
    boolean folderModel = source.contains("images");
    if (!folderModel && expected.size() != 784) {
      throw new UserError(
          "--model "
              + model
              + " expects inputs of shape "
              + expected
              + "; predict takes images for digit models and models trained on --data images:");
    }
    float[] batch = new float[images.size() * expected.size()];
    for (int i = 0; i < images.size(); i++) {
      try {
        float[] pixels =
            folderModel
                ? ImageData.loadFile(
                    images.get(i), expected.dim(1), expected.dim(2), expected.dim(0) == 1)
                : DigitImages.load(images.get(i));
        System.arraycopy(pixels, 0, batch, i * expected.size(), expected.size());
      } catch (IOException e) {
        throw new UserError(e.getMessage(), e);
      }
    }
    Tensor x = Tensor.wrap(batch, expected.withBatch(images.size()));
    List<List<Classification>> top = run.trainer().predictor().classify(x, 3);
    for (int i = 0; i < images.size(); i++) {
      StringBuilder line = new StringBuilder();
      for (Classification c : top.get(i)) {
        line.append(line.isEmpty() ? "" : ", ")
            .append(String.format(Locale.ROOT, "%s: %.4f", c.name(), c.probability()));
      }
      out.printf("%s: %s  (%s)%n", images.get(i), top.get(i).get(0).name(), line);
    }
  }
}
