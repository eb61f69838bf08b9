package dev.marrow.engine.train;

import dev.marrow.engine.metrics.Metric;
import java.util.List;

/**
 * The running values of an epoch so far, handed to {@link Callback#onBatchEnd}: the mean loss and
 * each compiled metric over the batches seen. One object per fit, updated in place, so that no step
 * allocates; read it during the call only.
 */
public final class BatchLogs {
  private final List<Metric> metrics;
  private Metric.Accumulator[] accumulators;
  private double loss;

  BatchLogs(List<Metric> metrics) {
    this.metrics = metrics;
  }

  void reset(Metric.Accumulator[] accumulators) {
    this.accumulators = accumulators;
    this.loss = Double.NaN;
  }

  void setLoss(double loss) {
    this.loss = loss;
  }

  /** The running mean loss of the epoch. */
  public double loss() {
    return loss;
  }

  /** The compiled metrics' names, in order. */
  public int size() {
    return metrics.size();
  }

  public String name(int i) {
    return metrics.get(i).name();
  }

  /** The running value of metric i. */
  public double value(int i) {
    return accumulators[i].result();
  }

  /** The running value of a metric by name ({@code loss} included); NaN when not compiled. */
  public double get(String name) {
    if (name.equals("loss")) {
      return loss;
    }
    for (int i = 0; i < metrics.size(); i++) {
      if (metrics.get(i).name().equals(name)) {
        return value(i);
      }
    }
    return Double.NaN;
  }
}
