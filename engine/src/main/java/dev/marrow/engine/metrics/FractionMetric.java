package dev.marrow.engine.metrics;

import dev.marrow.engine.backend.Backend;
import dev.marrow.engine.loss.Loss;
import dev.marrow.engine.tensor.Tensor;

/**
 * A metric that is a fraction of things counted right (rows or output units): the accuracies. A
 * subclass counts the hits and the things of one batch; the fraction runs over every batch.
 */
abstract class FractionMetric implements Metric {

  /** Things predicted right in this batch (rows or output units). */
  abstract long hits(
      Backend b,
      Tensor predictions,
      Tensor targets,
      Loss.TargetEncoding encoding,
      int rows,
      int cols);

  /** Things in a batch: its rows, or rows × cols for per-unit metrics. */
  abstract long count(int rows, int cols);

  @Override
  public final boolean higherIsBetter() {
    return true;
  }

  @Override
  public final Accumulator newAccumulator() {
    return new Accumulator() {
      private long hits, seen;

      @Override
      public void update(
          Backend b,
          Tensor predictions,
          Tensor targets,
          Loss.TargetEncoding encoding,
          int rows,
          int cols) {
        hits += hits(b, predictions, targets, encoding, rows, cols);
        seen += count(rows, cols);
      }

      @Override
      public double result() {
        return seen == 0 ? Double.NaN : (double) hits / seen;
      }
    };
  }
}
