package dev.marrow.engine.train.callbacks;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.marrow.engine.backend.Backend;
import dev.marrow.engine.backend.TestBackends;
import dev.marrow.engine.data.Dataset;
import dev.marrow.engine.loss.SparseCategoricalCrossentropy;
import dev.marrow.engine.nn.Dense;
import dev.marrow.engine.nn.Sequential;
import dev.marrow.engine.optim.Adam;
import dev.marrow.engine.train.FitOptions;
import dev.marrow.engine.train.History;
import dev.marrow.engine.train.Trainer;
import dev.marrow.engine.train.TrainerTest;
import java.util.ArrayList;
import java.util.List;
import java.util.logging.Handler;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import org.junit.jupiter.api.Test;

/** fit reports its progress by itself, as Keras' verbose does, without the CLI. */
class ProgressLoggerTest {
  private static History fit(FitOptions options) {
    Dataset data = TrainerTest.sectors(256, 3);
    try (Backend cpu = TestBackends.cpu(1)) {
      Sequential model = new Sequential(2).add(new Dense(8, "relu")).add(new Dense(3));
      return new Trainer(model, new Adam(1e-2), new SparseCategoricalCrossentropy(true), cpu)
          .fit(data, options.epochs(3).batchSize(64).validationSplit(0.25));
    }
  }

  @Test
  void byDefaultOneLinePerEpochGoesToSystemLogger() {
    Logger jul = Logger.getLogger("dev.marrow.engine.train");
    List<String> lines = new ArrayList<>();
    Handler capture =
        new Handler() {
          @Override
          public void publish(LogRecord r) {
            lines.add(r.getLevel() + " " + r.getMessage());
          }

          @Override
          public void flush() {}

          @Override
          public void close() {}
        };
    jul.addHandler(capture);
    try {
      History h = fit(FitOptions.defaults());
      assertEquals(3, lines.size(), lines.toString());
      for (int e = 1; e <= 3; e++) {
        String line = lines.get(e - 1);
        assertTrue(line.startsWith("INFO Epoch " + e + "/3 - 3/3 steps - "), line);
        assertTrue(
            line.contains(
                    String.format(
                        java.util.Locale.ROOT, "loss: %.4f", h.epochs().get(e - 1).loss()))
                && line.contains("val_accuracy: "),
            line);
      }
      lines.clear();
      fit(FitOptions.defaults().verbose(ProgressLogger.Verbosity.SILENT));
      assertEquals(List.of(), lines);
    } finally {
      jul.removeHandler(capture);
    }
  }

  @Test
  void aSinkGetsTheSameLines() {
    List<String> lines = new ArrayList<>();
    fit(
        FitOptions.defaults()
            .verbose(ProgressLogger.Verbosity.SILENT)
            .callback(ProgressLogger.to(ProgressLogger.Verbosity.EPOCH, lines::add)));
    assertEquals(3, lines.size(), lines.toString());
    assertTrue(lines.get(2).startsWith("Epoch 3/3 - 3/3 steps"), lines.get(2));
  }
}
