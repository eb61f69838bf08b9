package dev.marrow.engine.train.callbacks;

import dev.marrow.engine.io.tensorboard.EventFileWriter;
import dev.marrow.engine.io.tensorboard.Histogram;
import dev.marrow.engine.nn.Parameter;
import dev.marrow.engine.train.BatchLogs;
import dev.marrow.engine.train.Callback;
import dev.marrow.engine.train.EpochStats;
import dev.marrow.engine.train.History;
import dev.marrow.engine.train.TrainingContext;
import java.nio.file.Path;

/**
 * Writes TensorBoard logs like Keras' {@code TensorBoard(log_dir, histogram_freq, update_freq)}:
 * event files under {@code logDir/train} and, once an epoch has validation metrics, {@code
 * logDir/validation}. Per epoch: {@code epoch_loss}, {@code epoch_accuracy} and {@code
 * epoch_learning_rate} (train), {@code epoch_loss} and {@code epoch_accuracy} (validation). Every
 * {@code histogramFreq} epochs: each parameter's values ({@code dense1.weight/histogram}) and its
 * gradient of the epoch's last batch ({@code dense1.weight/gradient}). With a batch count as {@code
 * updateFreq}: {@code batch_loss} and {@code batch_accuracy}, the running means of the epoch so
 * far, as Keras logs them.
 *
 * <p>Steps are Marrow's epoch numbers, which count from 1 as in {@code history.csv} (Keras counts
 * from 0), and batch steps count batches from 1 across epochs; a resumed run continues both. Files
 * are flushed after every epoch and closed at the end of training.
 */
public final class TensorBoard implements Callback {
  private final Path logDir;
  private final int histogramFreq;
  private final int updateFreq; // batches between batch-level scalars; 0: per epoch only
  private EventFileWriter train;
  private EventFileWriter validation;
  private int epoch;

  /** Keras' defaults: epoch-level scalars only, no histograms. */
  public TensorBoard(Path logDir) {
    this(logDir, 0, "epoch");
  }

  /**
   * @param histogramFreq write histograms every this many epochs (the first epoch included, as
   *     Keras does); 0 for none
   * @param updateFreq {@code "epoch"}, {@code "batch"} (every batch) or a batch count, as Keras'
   *     {@code update_freq}
   */
  public TensorBoard(Path logDir, int histogramFreq, String updateFreq) {
    if (histogramFreq < 0) {
      throw new IllegalArgumentException("histogramFreq must be >= 0, got " + histogramFreq);
    }
    this.logDir = logDir;
    this.histogramFreq = histogramFreq;
    this.updateFreq = parseUpdateFreq(updateFreq);
  }

  private static int parseUpdateFreq(String updateFreq) {
    return switch (updateFreq) {
      case "epoch" -> 0;
      case "batch" -> 1;
      default -> {
        if (!updateFreq.matches("[1-9][0-9]{0,8}")) {
          throw new IllegalArgumentException(
              "updateFreq must be \"epoch\", \"batch\" or a"
                  + " positive batch count, got \""
                  + updateFreq
                  + "\"");
        }
        yield Integer.parseInt(updateFreq);
      }
    };
  }

  @Override
  public void onTrainBegin(TrainingContext ctx) {
    closeWriters(); // left open by a fit that threw
    train = EventFileWriter.create(logDir.resolve("train"));
  }

  @Override
  public void onEpochBegin(TrainingContext ctx, int epoch) {
    this.epoch = epoch;
  }

  @Override
  public void onBatchEnd(TrainingContext ctx, int batch, BatchLogs logs) {
    long step = (long) (epoch - 1) * ctx.stepsPerEpoch() + batch + 1;
    if (updateFreq > 0 && step % updateFreq == 0) {
      train.scalar("batch_loss", step, logs.loss());
      for (int i = 0; i < logs.size(); i++) {
        train.scalar("batch_" + logs.name(i), step, logs.value(i));
      }
    }
  }

  @Override
  public void onEpochEnd(TrainingContext ctx, EpochStats s) {
    train.scalar("epoch_loss", s.epoch(), s.loss());
    for (String metric : s.metricNames()) {
      train.scalar("epoch_" + metric, s.epoch(), s.get(metric));
    }
    train.scalar("epoch_learning_rate", s.epoch(), s.learningRate());
    if (histogramFreq > 0 && (s.epoch() - 1) % histogramFreq == 0) {
      for (Parameter p : ctx.model().parameters()) {
        train.histogram(p.name() + "/histogram", s.epoch(), Histogram.of(p.value().readArray()));
        train.histogram(p.name() + "/gradient", s.epoch(), Histogram.of(p.grad().readArray()));
      }
    }
    train.flush();
    if (s.hasValidation()) {
      if (validation == null) {
        validation = EventFileWriter.create(logDir.resolve("validation"));
      }
      validation.scalar("epoch_loss", s.epoch(), s.valLoss());
      for (String metric : s.metricNames()) {
        validation.scalar("epoch_" + metric, s.epoch(), s.get("val_" + metric));
      }
      validation.flush();
    }
  }

  @Override
  public void onTrainEnd(TrainingContext ctx, History history) {
    closeWriters();
  }

  private void closeWriters() {
    try (EventFileWriter t = train;
        EventFileWriter v = validation) {
      train = null;
      validation = null;
    }
  }
}
