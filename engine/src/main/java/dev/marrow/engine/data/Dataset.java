package dev.marrow.engine.data;

import dev.marrow.engine.tensor.Shape;
import dev.marrow.engine.tensor.Tensor;
import java.util.Arrays;

/**
 * An in-memory labelled data set: features of shape (N, sample shape) and N integer class labels.
 */
public final class Dataset {
  private final Tensor features;
  private final int[] labels;
  private final int classes;

  public Dataset(Tensor features, int[] labels, int classes) {
    Shape s = features.shape();
    if (s.rank() < 2) {
      throw new IllegalArgumentException("features need a batch axis and a sample shape, got " + s);
    }
    if (s.dim(0) != labels.length) {
      throw new IllegalArgumentException(
          "features hold " + s.dim(0) + " samples but there are " + labels.length + " labels");
    }
    if (classes < 1) {
      throw new IllegalArgumentException("need at least one class, got " + classes);
    }
    for (int i = 0; i < labels.length; i++) {
      if (labels[i] < 0 || labels[i] >= classes) {
        throw new IllegalArgumentException(
            "label " + labels[i] + " of sample " + i + " is outside [0, " + classes + ")");
      }
    }
    this.features = features;
    this.labels = labels;
    this.classes = classes;
  }

  public int size() {
    return labels.length;
  }

  public int classes() {
    return classes;
  }

  /** The shape of one sample, e.g. (1, 28, 28). */
  public Shape sampleShape() {
    return features.shape().dropFirst();
  }

  public Tensor features() {
    return features;
  }

  public int label(int i) {
    return labels[i];
  }

  public int[] labels() {
    return labels.clone();
  }

  /** Samples [from, to) as a new data set (copies). */
  public Dataset slice(int from, int to) {
    if (from < 0 || to > size() || from > to) {
      throw new IllegalArgumentException(
          "slice [" + from + ", " + to + ") is outside a data set of " + size());
    }
    int sampleSize = sampleShape().size();
    float[] x = Arrays.copyOfRange(features.array(), from * sampleSize, to * sampleSize);
    int[] dims = features.shape().dims();
    dims[0] = to - from;
    return new Dataset(
        Tensor.wrap(x, Shape.of(dims)), Arrays.copyOfRange(labels, from, to), classes);
  }

  /** Copies sample i into row {@code row} of a batch buffer. */
  public void copySample(int i, Tensor batch, int row) {
    int n = sampleShape().size();
    System.arraycopy(features.array(), i * n, batch.array(), row * n, n);
  }
}
