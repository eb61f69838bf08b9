package dev.marrow.cli;

import dev.marrow.engine.backend.Backend;
import dev.marrow.engine.tensor.Shape;
import dev.marrow.engine.tensor.Tensor;
import dev.marrow.models.mnist.DigitImages;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code marrow predict --model RUN_DIR IMAGE...}: the digit and top-3 probabilities. */
@Command(
    name = "predict",
    mixinStandardHelpOptions = true,
    description = {
      "Classify images of handwritten digits with a trained model.",
      "Any size or colour of PNG/JPEG works: it is converted as MNIST was made (grayscale,"
          + " digit light on dark, fitted into 20×20 and centred by mass in 28×28)."
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

  @Parameters(arity = "1..*", paramLabel = "IMAGE", description = "Image files.")
  List<Path> images;

  @Override
  public Integer call() {
    var out = spec.commandLine().getOut();
    float[] batch = new float[images.size() * 28 * 28];
    for (int i = 0; i < images.size(); i++) {
      try {
        System.arraycopy(DigitImages.load(images.get(i)), 0, batch, i * 784, 784);
      } catch (IOException e) {
        throw new UserError(e.getMessage(), e);
      }
    }
    try (Backend backend =
        device.open(Runtime.getRuntime().availableProcessors(), spec.commandLine().getErr())) {
      RunModel run = RunModel.load(model, backend);
      Shape expected = run.model.inputShape();
      if (expected.size() != 784) {
        throw new UserError(
            "--model "
                + model
                + " expects inputs of shape "
                + expected
                + "; predict works with 28×28 digit models");
      }
      Tensor probs = run.probabilities(Tensor.wrap(batch, expected.withBatch(images.size())));
      int classes = probs.shape().dim(-1);
      for (int i = 0; i < images.size(); i++) {
        Integer[] order = new Integer[classes];
        for (int c = 0; c < classes; c++) {
          order[c] = c;
        }
        final int row = i;
        java.util.Arrays.sort(
            order,
            (a, b) -> Float.compare(probs.get(row * classes + b), probs.get(row * classes + a)));
        StringBuilder top = new StringBuilder();
        for (int t = 0; t < Math.min(3, classes); t++) {
          top.append(
              String.format(
                  Locale.ROOT,
                  "%s%d: %.4f",
                  t == 0 ? "" : ", ",
                  order[t],
                  probs.get(i * classes + order[t])));
        }
        out.printf("%s: %d  (%s)%n", images.get(i), order[0], top);
      }
    }
    out.flush();
    return 0;
  }
}
