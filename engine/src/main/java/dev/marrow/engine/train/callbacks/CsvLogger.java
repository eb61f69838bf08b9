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
import java.util.List;
import java.util.Locale;

/**
 * Writes one CSV row per epoch, like Keras' CSVLogger: epoch, loss, each metric, val_loss and each
 * val_ metric (empty without validation data), seconds, samples/s, learning rate. The file is
 * rewritten atomically after each epoch, so it is complete at every moment; with {@code append} the
 * rows of an earlier run with the same columns are kept (for resumed training).
 */
public final class CsvLogger implements Callback {
  private final Path file;
  private final boolean append;
  private StringBuilder rows;
  private String header;

  public CsvLogger(Path file, boolean append) {
    this.file = file;
    this.append = append;
  }

  @Override
  public void onTrainBegin(TrainingContext ctx) {
    rows = null;
    header = null;
  }

  @Override
  public void onEpochEnd(TrainingContext ctx, EpochStats s) {
    if (rows == null) {
      header = header(s.metricNames());
      rows = new StringBuilder(header);
      if (append && Files.isRegularFile(file)) {
        try {
          String old = Files.readString(file);
          if (old.startsWith(header)) {
            rows = new StringBuilder(old);
          }
        } catch (IOException e) {
          throw new UncheckedIOException("cannot read " + file, e);
        }
      }
    }
    rows.append(row(s));
    try {
      AtomicFiles.write(file, rows.toString().getBytes(StandardCharsets.UTF_8));
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write " + file + ": " + e.getMessage(), e);
    }
  }

  /** The header line for these metrics. */
  public static String header(List<String> metrics) {
    StringBuilder h = new StringBuilder("epoch,loss");
    metrics.forEach(m -> h.append(',').append(m));
    h.append(",val_loss");
    metrics.forEach(m -> h.append(",val_").append(m));
    return h.append(",seconds,samples_per_second,learning_rate\n").toString();
  }

  public static String row(EpochStats s) {
    StringBuilder r = new StringBuilder().append(s.epoch()).append(',').append(number(s.loss()));
    List<String> metrics = s.metricNames();
    metrics.forEach(m -> r.append(',').append(number(s.get(m))));
    r.append(',').append(s.hasValidation() ? number(s.valLoss()) : "");
    metrics.forEach(m -> r.append(',').append(s.hasValidation() ? number(s.get("val_" + m)) : ""));
    return r.append(
            String.format(
                Locale.ROOT,
                ",%.4f,%.1f,%g%n",
                s.seconds(),
                s.samplesPerSecond(),
                s.learningRate()))
        .toString();
  }

  private static String number(double v) {
    return String.format(Locale.ROOT, "%.6f", v);
  }
}
