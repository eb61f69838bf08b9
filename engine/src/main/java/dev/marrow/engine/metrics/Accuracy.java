package dev.marrow.engine.metrics;

import dev.marrow.engine.backend.Backend;
import dev.marrow.engine.loss.Loss;
import dev.marrow.engine.tensor.Tensor;

/**
 * Keras' categorical and sparse categorical accuracy: the fraction of rows whose highest-scoring
 * output is the target class (the label, or the argmax of a one-hot or soft target row).
 */
public final class Accuracy implements Metric {
  @Override
  public String name() {
    return "accuracy";
  }

  @Override
  public boolean higherIsBetter() {
    return true;
  }

  @Override
  public Accumulator newAccumulator() {
    return new Accumulator() {
      private long correct, rowsSeen;

      @Override
      public void update(
          Backend b,
          Tensor predictions,
          Tensor targets,
          Loss.TargetEncoding encoding,
          int rows,
          int cols) {
        correct +=
            encoding == Loss.TargetEncoding.CLASS_INDEX
                ? b.countCorrect(predictions, targets, rows, cols)
                : b.countCorrectDense(predictions, targets, rows, cols);
        rowsSeen += rows;
      }

      @Override
      public double result() {
        return rowsSeen == 0 ? Double.NaN : (double) correct / rowsSeen;
      }
    };
  }
}
