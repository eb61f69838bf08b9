package dev.marrow.engine.metrics;

import dev.marrow.engine.loss.BinaryCrossentropy;
import dev.marrow.engine.loss.Loss;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Metrics by their Keras names, resolved against the loss they are compiled with. */
public final class Metrics {
  private static final Pattern TOP_K = Pattern.compile("top_(\\d+)_accuracy");

  private Metrics() {}

  /**
   * {@code accuracy} (binary accuracy when the loss is binary cross-entropy or the model has one
   * output unit, as Keras decides), {@code binary_accuracy}, {@code top_k_accuracy} (k = 5) or
   * {@code top_K_accuracy}, {@code mae}, {@code mse}, {@code rmse}, {@code auc}.
   */
  public static Metric byName(String name, Loss loss, int outputUnits) {
    boolean logits = !(loss instanceof BinaryCrossentropy bce) || bce.fromLogits();
    boolean binary = loss instanceof BinaryCrossentropy || outputUnits == 1;
    Matcher topK = TOP_K.matcher(name);
    if (topK.matches()) {
      return new TopKAccuracy(Integer.parseInt(topK.group(1)));
    }
    return switch (name) {
      case "accuracy", "acc" -> binary ? new BinaryAccuracy(logits ? 0f : 0.5f) : new Accuracy();
      case "binary_accuracy" -> new BinaryAccuracy(logits ? 0f : 0.5f);
      case "top_k_accuracy" -> new TopKAccuracy(5);
      case "mae", "mean_absolute_error" -> new ErrorMetric(ErrorMetric.Kind.MAE);
      case "mse", "mean_squared_error" -> new ErrorMetric(ErrorMetric.Kind.MSE);
      case "rmse", "root_mean_squared_error" -> new ErrorMetric(ErrorMetric.Kind.RMSE);
      case "auc" -> new Auc(logits);
      default ->
          throw new IllegalArgumentException(
              "unknown metric '"
                  + name
                  + "'; expected accuracy, binary_accuracy, top_k_accuracy, top_K_accuracy,"
                  + " mae, mse, rmse or auc");
    };
  }

  /** Each name resolved, in order; duplicate names are an error. */
  public static List<Metric> byNames(List<String> names, Loss loss, int outputUnits) {
    List<Metric> out = new ArrayList<>();
    for (String n : names) {
      Metric m = byName(n.trim(), loss, outputUnits);
      for (Metric seen : out) {
        if (seen.name().equals(m.name())) {
          throw new IllegalArgumentException("metric '" + m.name() + "' is listed twice");
        }
      }
      out.add(m);
    }
    return out;
  }

  /**
   * The metrics of a model compiled without any: accuracy when the data has class labels or the
   * loss is a classification loss, none for regression.
   */
  public static List<Metric> defaults(Loss loss, int outputUnits, boolean classTargets) {
    boolean classification =
        classTargets
            || switch (loss.name()) {
              case "sparse_categorical_crossentropy",
                  "categorical_crossentropy",
                  "binary_crossentropy" ->
                  true;
              default -> false;
            };
    return classification ? List.of(byName("accuracy", loss, outputUnits)) : List.of();
  }

  static void requireDense(Loss.TargetEncoding encoding, String metric) {
    if (encoding == Loss.TargetEncoding.CLASS_INDEX) {
      throw new IllegalArgumentException(
          metric
              + " compares outputs with target values, but the loss takes class indices; use"
              + " accuracy or top_k_accuracy with it");
    }
  }
}
