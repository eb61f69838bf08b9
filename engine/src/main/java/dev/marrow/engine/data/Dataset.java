package dev.marrow.engine.data;

import dev.marrow.engine.tensor.Shape;
import dev.marrow.engine.tensor.Tensor;
import java.util.Arrays;
import java.util.List;

/**
 * An in-memory data set: features of shape (N, sample shape) and, per sample, a class index (with
 * optional class names) or a float target tensor (regression, multi-label, soft labels).
 */
public final class Dataset implements DataSource {
  private final Tensor features;
  private final int[] labels;
  private final Tensor values;
  private final Targets targets;

  /** Features with integer class labels in [0, classes). */
  public Dataset(Tensor features, int[] labels, int classes) {
    this(features, labels, Targets.classes(classes));
  }

  /** Features with integer class labels, the classes named (index i is {@code names.get(i)}). */
  public Dataset(Tensor features, int[] labels, List<String> classNames) {
    this(features, labels, Targets.classes(classNames.size(), classNames));
  }

  private Dataset(Tensor features, int[] labels, Targets targets) {
    int n = requireSamples(features, labels.length, "labels");
    targets.checkLabels(labels, n, "");
    this.features = features;
    this.labels = labels;
    this.values = null;
    this.targets = targets;
  }

  private Dataset(Tensor features, Tensor values) {
    Shape v = values.shape();
    if (v.rank() < 2) {
      throw new IllegalArgumentException(
          "value targets need a batch axis and a target shape, e.g. (N, 1); got " + v);
    }
    requireSamples(features, v.dim(0), "targets");
    float[] a = values.readArray();
    int perSample = v.dropFirst().size();
    for (int i = 0; i < a.length; i++) {
      if (!Float.isFinite(a[i])) {
        throw new IllegalArgumentException(
            "target " + (i % perSample) + " of sample " + (i / perSample) + " is " + a[i]);
      }
    }
    this.features = features;
    this.labels = null;
    this.values = values;
    this.targets = Targets.values(v.dropFirst());
  }

  /** Features with float targets of shape (N, target shape), e.g. (N, 1) for one regressand. */
  public static Dataset withValues(Tensor features, Tensor targets) {
    return new Dataset(features, targets);
  }

  private static int requireSamples(Tensor features, int targetCount, String what) {
    Shape s = features.shape();
    if (s.rank() < 2) {
      throw new IllegalArgumentException("features need a batch axis and a sample shape, got " + s);
    }
    if (s.dim(0) != targetCount) {
      throw new IllegalArgumentException(
          "features hold " + s.dim(0) + " samples but there are " + targetCount + " " + what);
    }
    return targetCount;
  }

  @Override
  public int size() {
    return features.shape().dim(0);
  }

  @Override
  public Targets targets() {
    return targets;
  }

  /** Number of classes; 0 for value targets. */
  public int classes() {
    return targets.classes();
  }

  /** The shape of one sample, e.g. (1, 28, 28). */
  @Override
  public Shape sampleShape() {
    return features.shape().dropFirst();
  }

  public Tensor features() {
    return features;
  }

  /** The class label of sample i (class targets only). */
  public int label(int i) {
    return requireLabels()[i];
  }

  public int[] labels() {
    return requireLabels().clone();
  }

  /** The float targets, (N, target shape) (value targets only). */
  public Tensor values() {
    if (values == null) {
      throw new IllegalStateException("this data set has class labels, not value targets");
    }
    return values;
  }

  private int[] requireLabels() {
    if (labels == null) {
      throw new IllegalStateException(
          "this data set has value targets of shape " + targets.valueShape() + ", not labels");
    }
    return labels;
  }

  /** Samples [from, to) as a new data set (copies). */
  public Dataset slice(int from, int to) {
    if (from < 0 || to > size() || from > to) {
      throw new IllegalArgumentException(
          "slice [" + from + ", " + to + ") is outside a data set of " + size());
    }
    Tensor x = copyRows(features, from, to);
    return labels != null
        ? new Dataset(x, Arrays.copyOfRange(labels, from, to), targets)
        : new Dataset(x, copyRows(values, from, to));
  }

  private static Tensor copyRows(Tensor t, int from, int to) {
    int per = t.shape().dropFirst().size();
    int[] dims = t.shape().dims();
    dims[0] = to - from;
    return Tensor.wrap(Arrays.copyOfRange(t.readArray(), from * per, to * per), Shape.of(dims));
  }

  /** Copies sample i into row {@code row} of a batch buffer. */
  public void copySample(int i, Tensor batch, int row) {
    int n = sampleShape().size();
    System.arraycopy(features.readArray(), i * n, batch.array(), row * n, n);
  }

  @Override
  public void read(int[] indices, int from, int count, Batch batch) {
    float[] x = features.readArray();
    float[] y = values == null ? null : values.readArray();
    int n = sampleShape().size(), m = targets.valueSize();
    for (int r = 0; r < count; r++) {
      int i = indices == null ? from + r : indices[from + r];
      System.arraycopy(x, i * n, batch.features(), r * n, n);
      if (labels != null) {
        batch.labels()[r] = labels[i];
      } else {
        System.arraycopy(y, i * m, batch.values(), r * m, m);
      }
    }
    batch.setRows(count);
  }
}
