package dev.marrow.engine.metrics;

import dev.marrow.engine.backend.Backend;
import dev.marrow.engine.loss.Loss;
import dev.marrow.engine.tensor.Tensor;

/**
 * Keras' binary_accuracy: the fraction of output units on the right side of a threshold (0.5 for
 * probabilities, 0 for logits), for binary and multi-label classification; a target counts as
 * positive from 0.5 up.
 */
public final class BinaryAccuracy extends FractionMetric {
  private final float threshold;

  public BinaryAccuracy(float threshold) {
    this.threshold = threshold;
  }

  @Override
  public String name() {
    return "binary_accuracy";
  }

  @Override
  long hits(
      Backend b,
      Tensor predictions,
      Tensor targets,
      Loss.TargetEncoding encoding,
      int rows,
      int cols) {
    Metrics.requireDense(encoding, name());
    float[] p = predictions.readArray(), t = targets.readArray();
    long right = 0;
    for (int i = 0; i < rows * cols; i++) {
      right += (p[i] > threshold) == (t[i] >= 0.5f) ? 1 : 0;
    }
    return right;
  }

  @Override
  long count(int rows, int cols) {
    return (long) rows * cols;
  }
}
