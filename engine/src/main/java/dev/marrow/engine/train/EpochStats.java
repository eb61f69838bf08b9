package dev.marrow.engine.train;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What one epoch measured: Keras' {@code logs} ({@code loss}, each compiled metric, and {@code
 * val_loss}, {@code val_<metric>} with validation data) and the epoch's timing. {@code seconds} is
 * the wall time of the training steps only (batch loading included, validation excluded).
 */
public record EpochStats(
    int epoch,
    Map<String, Double> logs,
    double seconds,
    double samplesPerSecond,
    double learningRate) {

  public EpochStats {
    logs = Collections.unmodifiableMap(new LinkedHashMap<>(logs));
  }

  /** The epoch of a classifier: loss and accuracy, and validation's when not NaN. */
  public EpochStats(
      int epoch,
      double loss,
      double accuracy,
      double valLoss,
      double valAccuracy,
      double seconds,
      double samplesPerSecond,
      double learningRate) {
    this(
        epoch,
        classifierLogs(loss, accuracy, valLoss, valAccuracy),
        seconds,
        samplesPerSecond,
        learningRate);
  }

  private static Map<String, Double> classifierLogs(
      double loss, double accuracy, double valLoss, double valAccuracy) {
    Map<String, Double> logs = new LinkedHashMap<>();
    logs.put("loss", loss);
    logs.put("accuracy", accuracy);
    if (!Double.isNaN(valLoss)) {
      logs.put("val_loss", valLoss);
      logs.put("val_accuracy", valAccuracy);
    }
    return logs;
  }

  /** A logged quantity by name ({@code loss}, {@code mae}, {@code val_auc}, …); NaN if absent. */
  public double get(String name) {
    Double v = logs.get(name);
    return v == null ? Double.NaN : v;
  }

  public double loss() {
    return get("loss");
  }

  /** NaN when accuracy is not among the compiled metrics. */
  public double accuracy() {
    return get("accuracy");
  }

  public double valLoss() {
    return get("val_loss");
  }

  public double valAccuracy() {
    return get("val_accuracy");
  }

  public boolean hasValidation() {
    return logs.containsKey("val_loss");
  }

  /** The compiled metrics' names, in order (loss and validation entries excluded). */
  public List<String> metricNames() {
    List<String> names = new ArrayList<>();
    for (String k : logs.keySet()) {
      if (!k.equals("loss") && !k.startsWith("val_")) {
        names.add(k);
      }
    }
    return names;
  }
}
