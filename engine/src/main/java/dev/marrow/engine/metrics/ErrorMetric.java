package dev.marrow.engine.metrics;

import dev.marrow.engine.backend.Backend;
import dev.marrow.engine.loss.Loss;
import dev.marrow.engine.tensor.Tensor;

/**
 * Regression errors over every output element: Keras' mean_absolute_error ({@code mae}),
 * mean_squared_error ({@code mse}) and root_mean_squared_error ({@code rmse}, the root of the mean
 * over all samples, not a mean of batch roots).
 */
public final class ErrorMetric implements Metric {
  /** Which error. */
  public enum Kind {
    MAE,
    MSE,
    RMSE
  }

  private final Kind kind;

  public ErrorMetric(Kind kind) {
    this.kind = kind;
  }

  @Override
  public String name() {
    return kind.name().toLowerCase(java.util.Locale.ROOT);
  }

  @Override
  public boolean higherIsBetter() {
    return false;
  }

  @Override
  public Accumulator newAccumulator() {
    return new Accumulator() {
      private double sum;
      private long seen;

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
          double d = (double) p[i] - t[i];
          sum += kind == Kind.MAE ? Math.abs(d) : d * d;
        }
        seen += (long) rows * cols;
      }

      @Override
      public double result() {
        if (seen == 0) {
          return Double.NaN;
        }
        double mean = sum / seen;
        return kind == Kind.RMSE ? Math.sqrt(mean) : mean;
      }
    };
  }
}
