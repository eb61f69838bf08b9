package dev.marrow.engine.metrics;

import dev.marrow.engine.backend.Backend;
import dev.marrow.engine.loss.Loss;
import dev.marrow.engine.tensor.Tensor;

/**
 * The area under the ROC curve of binary or multi-label outputs, every output unit pooled (Keras'
 * AUC with {@code multi_label=False}). Scores are bucketed into {@value #BUCKETS} equal bins of
 * probability (logits through the sigmoid first), so memory stays fixed however much data passes;
 * the area is the Mann-Whitney statistic over the bins, a pair in the same bin counting ½. That is
 * Keras' interpolation with 1000 thresholds; the exact area differs only by pairs closer than
 * 1/1000 in probability.
 */
public final class Auc implements Metric {
  static final int BUCKETS = 1000;
  private final boolean fromLogits;

  public Auc(boolean fromLogits) {
    this.fromLogits = fromLogits;
  }

  @Override
  public String name() {
    return "auc";
  }

  @Override
  public boolean higherIsBetter() {
    return true;
  }

  @Override
  public Accumulator newAccumulator() {
    return new Accumulator() {
      private final long[] positives = new long[BUCKETS];
      private final long[] negatives = new long[BUCKETS];

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
          double prob = fromLogits ? 1 / (1 + Math.exp(-p[i])) : p[i];
          int bucket = (int) Math.min(BUCKETS - 1, Math.max(0, Math.floor(prob * BUCKETS)));
          if (t[i] >= 0.5f) {
            positives[bucket]++;
          } else {
            negatives[bucket]++;
          }
        }
      }

      @Override
      public double result() {
        double pairs = 0, positivesAbove = 0, totalNegatives = 0;
        for (int k = BUCKETS - 1; k >= 0; k--) {
          pairs += negatives[k] * (positivesAbove + 0.5 * positives[k]);
          positivesAbove += positives[k];
          totalNegatives += negatives[k];
        }
        return positivesAbove == 0 || totalNegatives == 0
            ? Double.NaN
            : pairs / (positivesAbove * totalNegatives);
      }
    };
  }
}
