package dev.marrow.engine.metrics;

import dev.marrow.engine.backend.Backend;
import dev.marrow.engine.loss.Loss;
import dev.marrow.engine.tensor.Tensor;

/**
 * Keras' top_k_categorical_accuracy: the fraction of rows whose target class is among the k
 * highest-scoring outputs (ties counted in the target's favour, as Keras' in_top_k does).
 */
public final class TopKAccuracy extends FractionMetric {
  private final int k;

  public TopKAccuracy(int k) {
    if (k < 1) {
      throw new IllegalArgumentException("top-k accuracy needs k >= 1, got " + k);
    }
    this.k = k;
  }

  @Override
  public String name() {
    return k == 5 ? "top_k_accuracy" : "top_" + k + "_accuracy";
  }

  @Override
  long hits(
      Backend b,
      Tensor predictions,
      Tensor targets,
      Loss.TargetEncoding encoding,
      int rows,
      int cols) {
    float[] p = predictions.readArray(), t = targets.readArray();
    long hits = 0;
    for (int r = 0; r < rows; r++) {
      int target =
          encoding == Loss.TargetEncoding.CLASS_INDEX ? (int) t[r] : argmax(t, r * cols, cols);
      float score = p[r * cols + target];
      int better = 0;
      for (int c = 0; c < cols; c++) {
        better += p[r * cols + c] > score ? 1 : 0;
      }
      hits += better < k ? 1 : 0;
    }
    return hits;
  }

  @Override
  long count(int rows, int cols) {
    return rows;
  }

  private static int argmax(float[] x, int offset, int n) {
    int best = 0;
    for (int c = 1; c < n; c++) {
      if (x[offset + c] > x[offset + best]) {
        best = c;
      }
    }
    return best;
  }
}
