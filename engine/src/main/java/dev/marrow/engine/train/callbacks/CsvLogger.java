package dev.marrow.engine.train.callbacks;

import dev.marrow.engine.io.AtomicFiles;
import dev.marrow.engine.train.Callback;
import dev.marrow.engine.train.EpochStats;
import dev.marrow.engine.train.TrainingContext;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;

/**
 * Writes one CSV row per epoch (epoch, loss, accuracy, val_loss, val_accuracy, seconds, samples/s,
 * learning rate), like Keras' CSVLogger. The file is rewritten atomically after each epoch, so it
 * is complete at every moment; with {@code append} the rows of an earlier run are kept (for resumed
 * training).
 */
public final class CsvLogger implements Callback {
  public static final String HEADER =
      "epoch,loss,accuracy,val_loss,val_accuracy,seconds,samples_per_second,learning_rate\n";
  private final Path file;
  private final boolean append;
  private StringBuilder rows;

  public CsvLogger(Path file, boolean append) {
    this.file = file;
    this.append = append;
  }

  @Override
  public void onTrainBegin(TrainingContext ctx) {
    rows = new StringBuilder(HEADER);
    if (append && Files.isRegularFile(file)) {
      try {
        String old = Files.readString(file);
        rows = new StringBuilder(old.startsWith(HEADER) ? old : HEADER);
      } catch (IOException e) {
        throw new UncheckedIOException("cannot read " + file, e);
      }
    }
  }

  @Override
  public void onEpochEnd(TrainingContext ctx, EpochStats s) {
    rows.append(row(s));
    try {
      AtomicFiles.write(file, rows.toString().getBytes(StandardCharsets.UTF_8));
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write " + file + ": " + e.getMessage(), e);
    }
  }

  public static String row(EpochStats s) {
    return String.format(
        Locale.ROOT,
        "%d,%.6f,%.6f,%s,%s,%.4f,%.1f,%g%n",
        s.epoch(),
        s.loss(),
        s.accuracy(),
        s.hasValidation() ? String.format(Locale.ROOT, "%.6f", s.valLoss()) : "",
        s.hasValidation() ? String.format(Locale.ROOT, "%.6f", s.valAccuracy()) : "",
        s.seconds(),
        s.samplesPerSecond(),
        s.learningRate());
  }
}
