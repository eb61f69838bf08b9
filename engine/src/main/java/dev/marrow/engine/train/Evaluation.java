package dev.marrow.engine.train;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/** Mean loss and the compiled metrics over a data set. */
public record Evaluation(double loss, Map<String, Double> metrics, int samples) {
  public Evaluation {
    metrics = Collections.unmodifiableMap(new LinkedHashMap<>(metrics));
  }

  /** A metric by name; NaN when it was not compiled. */
  public double get(String name) {
    Double v = metrics.get(name);
    return v == null ? Double.NaN : v;
  }

  /** NaN when accuracy is not among the compiled metrics. */
  public double accuracy() {
    return get("accuracy");
  }
}
