package dev.marrow.engine.metrics;

import dev.marrow.engine.backend.Backend;
import dev.marrow.engine.loss.Loss;
import dev.marrow.engine.tensor.Tensor;

/**
 * Keras' binary_accuracy: the fraction of output units on the right side of a threshold (0.5 for
 * probabilities, 0 for logits), for binary and multi-label classification; a target counts as
 * positive from 0.5 up.
 */
public final class BinaryAccuracy implements Metric {
  private final float threshold;

  public BinaryAccuracy(float threshold) {
    this.threshold = threshold;
  }

  @Override
  public String name() {
    return "binary_accuracy";
  }

  @Override
  public boolean higherIsBetter() {
    return true;
  }

  @Override
  public Accumulator newAccumulator() {
    return new Accumulator() {
      private long right, seen;

      @Override
      public void update(
          Backend b,
          Tensor predictions,
          Tensor targets,
          Loss.TargetEncoding encoding,
          int rows,
          int cols) {
        Metrics.requireDense(encoding, name());
        float[] p = predictions.readArray(), t = targets.readArray();
        for (int i = 0; i < rows * cols; i++) {
          right += (p[i] > threshold) == (t[i] >= 0.5f) ? 1 : 0;
        }
        seen += (long) rows * cols;
      }

      @Override
      public double result() {
        return seen == 0 ? Double.NaN : (double) right / seen;
      }
    };
  }
}
