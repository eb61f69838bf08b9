package dev.marrow.engine.nn;

import dev.marrow.engine.backend.Backend;
import dev.marrow.engine.backend.BatchNormArgs;
import dev.marrow.engine.data.Batch;
import dev.marrow.engine.data.DataSource;
import dev.marrow.engine.tensor.Shape;
import dev.marrow.engine.tensor.Tensor;
import java.util.Arrays;
import java.util.List;

/**
 * Keras' {@code Normalization} preprocessing layer: standardises each feature (for (features,)
 * inputs) or each channel (for (channels, height, width) inputs) to zero mean and unit variance
 * with statistics fitted on training data by {@link #adapt}, y = (x − mean)/√(variance + ε), ε =
 * 1e-7. The statistics are the layer's buffers, saved with the model, so a loaded model applies to
 * raw inputs exactly what it was trained with. Nothing in it trains; it passes gradients through
 * (dx = dy/√(variance + ε)). Adapt before the model is compiled.
 */
public final class Normalization extends Layer {
  static final float EPSILON = 1e-7f;

  private Parameter mean;
  private Parameter variance;
  private double[] adaptedMean;
  private double[] adaptedVariance;

  @Override
  public String typeName() {
    return "normalization";
  }

  @Override
  public Shape computeOutputShape(Shape input) {
    if (input.rank() != 1 && input.rank() != 3) {
      throw new IllegalArgumentException(
          "Normalization expects (features,) or (channels, height, width) inputs, got " + input);
    }
    return input;
  }

  @Override
  protected void createParameters(Shape input, java.util.random.RandomGenerator random) {
    int c = input.dim(0);
    mean = newParameter("mean", c);
    variance = newParameter("variance", c);
    Arrays.fill(variance.value().array(), 1f); // identity until adapted or loaded
    if (adaptedMean != null) {
      store();
    }
  }

  @Override
  public List<Parameter> buffers() {
    return mean == null ? List.of() : List.of(mean, variance);
  }

  /**
   * Fits mean and variance (population variance, as Keras) to every sample of {@code data}, in
   * double precision, reading it batch by batch (a streaming source is never held whole).
   */
  public Normalization adapt(DataSource data) {
    Shape sample = data.sampleShape();
    computeOutputShape(sample);
    if (data.size() == 0) {
      throw new IllegalArgumentException("cannot adapt Normalization to empty data");
    }
    int c = sample.dim(0), spatial = sample.size() / c;
    double[] sum = new double[c], sumSq = new double[c];
    // Shifted by the first sample's values, so that large offsets do not cancel catastrophically.
    double[] shift = null;
    Batch b = data.newBatch(Math.min(1024, data.size()));
    for (int from = 0; from < data.size(); from += b.capacity()) {
      data.read(null, from, Math.min(b.capacity(), data.size() - from), b);
      float[] x = b.features();
      if (shift == null) {
        shift = new double[c];
        for (int ch = 0; ch < c; ch++) {
          shift[ch] = x[ch * spatial];
        }
      }
      for (int r = 0; r < b.rows(); r++) {
        for (int ch = 0; ch < c; ch++) {
          int o = (r * c + ch) * spatial;
          for (int s = 0; s < spatial; s++) {
            double d = x[o + s] - shift[ch];
            sum[ch] += d;
            sumSq[ch] += d * d;
          }
        }
      }
    }
    double count = (double) data.size() * spatial;
    adaptedMean = new double[c];
    adaptedVariance = new double[c];
    for (int ch = 0; ch < c; ch++) {
      double m = sum[ch] / count;
      adaptedMean[ch] = shift[ch] + m;
      adaptedVariance[ch] = Math.max(0, sumSq[ch] / count - m * m);
    }
    if (mean != null) {
      store();
    }
    return this;
  }

  private void store() {
    if (adaptedMean.length != mean.value().size()) {
      throw new IllegalArgumentException(
          "Normalization was adapted to "
              + adaptedMean.length
              + " features but is built for "
              + mean.value().size());
    }
    for (int i = 0; i < adaptedMean.length; i++) {
      mean.value().array()[i] = (float) adaptedMean[i];
      variance.value().array()[i] = (float) adaptedVariance[i];
    }
  }

  /** The fitted means per feature or channel (identity statistics before adapt). */
  public float[] mean() {
    return mean.value().readArray().clone();
  }

  public float[] variance() {
    return variance.value().readArray().clone();
  }

  /** Only dy, scaled by the fixed statistics (kept in a buffer of its own). */
  @Override
  public BackwardReads backwardReads() {
    return BackwardReads.NOTHING;
  }

  @Override
  public LayerStep compile(CompileContext ctx, Tensor x, Tensor dx) {
    Backend b = ctx.backend();
    Shape in = inputShape();
    int n = ctx.batch(), c = in.dim(0), spatial = in.size() / c;
    Tensor ones = b.allocate(Shape.of(c)), zeros = b.allocate(Shape.of(c));
    Arrays.fill(ones.array(), 1f);
    Tensor inverseStd = dx == null ? null : ctx.allocateBatch(in);
    // inference only: no running update (factor 0), no saved statistics
    BatchNormArgs standardise =
        new BatchNormArgs(
            n, c, spatial, ones, zeros, mean.value(), variance.value(), 0, EPSILON, null, null);
    return new BufferedStep(ctx.output(outputShape()), ctx.outputGrad(in)) {
      private boolean scaled;

      @Override
      public void forward(boolean training) {
        // The inference form of batch norm with γ = 1, β = 0 is exactly this standardisation.
        b.batchNormForwardInference(standardise, x, y);
      }

      @Override
      public void backward() {
        if (!scaled) { // the statistics are fixed once training starts: one broadcast
          float[] v = variance.value().readArray(), s = inverseStd.array();
          for (int i = 0; i < s.length; i++) {
            s[i] = (float) (1 / Math.sqrt(v[(i / spatial) % c] + EPSILON));
          }
          scaled = true;
        }
        b.multiply(dy, inverseStd, dx, false);
      }
    };
  }
}
