package dev.marrow.engine.data;

import dev.marrow.engine.tensor.Shape;
import dev.marrow.engine.tensor.Tensor;
import java.util.ArrayList;
import java.util.List;

/**
 * An in-memory data set for a model with several inputs or outputs, Keras' {@code fit([x1, x2],
 * [y1, y2])}: features per input, (N, input shape) each, in the model's input order, and targets
 * per output, class labels or float values, in the model's output order.
 *
 * <pre>{@code
 * MultiDataset data = MultiDataset.of(List.of(images, metadata)) // two inputs
 *     .withLabels(digits, 10)                                    // output 1: classes
 *     .withValues(ages);                                         // output 2: (N, 1) floats
 * }</pre>
 *
 * The single-part accessors of {@link DataSource} ({@link #sampleShape()}, {@link #targets()}) are
 * the first input's and the first output's.
 */
public final class MultiDataset implements DataSource {
  private final List<Tensor> inputs;
  private final List<Part> outputs;
  private final int size;

  /** One output's targets: class labels, or values (N, target shape). */
  private record Part(Targets targets, int[] labels, Tensor values) {}

  private MultiDataset(List<Tensor> inputs, List<Part> outputs) {
    this.inputs = List.copyOf(inputs);
    this.outputs = List.copyOf(outputs);
    this.size = inputs.get(0).shape().dim(0);
  }

  /** Features for each input, (N, input shape), no targets yet. */
  public static MultiDataset of(List<Tensor> inputs) {
    if (inputs.isEmpty()) {
      throw new IllegalArgumentException("a data set needs at least one input");
    }
    int n = -1;
    for (int i = 0; i < inputs.size(); i++) {
      Shape s = inputs.get(i).shape();
      if (s.rank() < 2) {
        throw new IllegalArgumentException(
            "input " + (i + 1) + " needs a batch axis and a sample shape, got " + s);
      }
      if (n >= 0 && s.dim(0) != n) {
        throw new IllegalArgumentException(
            "input 1 holds " + n + " samples but input " + (i + 1) + " holds " + s.dim(0));
      }
      n = s.dim(0);
    }
    return new MultiDataset(inputs, List.of());
  }

  /** Adds the next output's targets: class labels in [0, classes). */
  public MultiDataset withLabels(int[] labels, int classes) {
    return withLabels(labels, Targets.classes(classes));
  }

  /** Adds the next output's targets: class labels, named ({@code names.get(i)} is class i). */
  public MultiDataset withLabels(int[] labels, List<String> classNames) {
    return withLabels(labels, Targets.classes(classNames.size(), classNames));
  }

  private MultiDataset withLabels(int[] labels, Targets targets) {
    requireSamples(labels.length);
    targets.checkLabels(labels, labels.length, "output " + (outputs.size() + 1) + ": ");
    return with(new Part(targets, labels.clone(), null));
  }

  /** Adds the next output's targets: floats of shape (N, target shape), e.g. (N, 1). */
  public MultiDataset withValues(Tensor values) {
    Shape v = values.shape();
    if (v.rank() < 2) {
      throw new IllegalArgumentException(
          "value targets need a batch axis and a target shape, e.g. (N, 1); got " + v);
    }
    requireSamples(v.dim(0));
    float[] a = values.readArray();
    int perSample = v.dropFirst().size();
    for (int i = 0; i < values.size(); i++) {
      if (!Float.isFinite(a[i])) {
        throw new IllegalArgumentException(
            "output "
                + (outputs.size() + 1)
                + ": target "
                + (i % perSample)
                + " of sample "
                + (i / perSample)
                + " is "
                + a[i]);
      }
    }
    return with(new Part(Targets.values(v.dropFirst()), null, values));
  }

  private void requireSamples(int count) {
    if (count != size) {
      throw new IllegalArgumentException(
          "the inputs hold "
              + size
              + " samples but output "
              + (outputs.size() + 1)
              + " has "
              + count
              + " targets");
    }
  }

  private MultiDataset with(Part part) {
    List<Part> more = new ArrayList<>(outputs);
    more.add(part);
    return new MultiDataset(inputs, more);
  }

  @Override
  public int size() {
    return size;
  }

  /** The first input's sample shape. */
  @Override
  public Shape sampleShape() {
    return inputs.get(0).shape().dropFirst();
  }

  @Override
  public List<Shape> inputShapes() {
    List<Shape> shapes = new ArrayList<>();
    for (Tensor x : inputs) {
      shapes.add(x.shape().dropFirst());
    }
    return List.copyOf(shapes);
  }

  /** The first output's targets. */
  @Override
  public Targets targets() {
    if (outputs.isEmpty()) {
      throw new IllegalStateException(
          "this data set has no targets yet: add them with withLabels or withValues");
    }
    return outputs.get(0).targets();
  }

  @Override
  public List<Targets> outputTargets() {
    List<Targets> targets = new ArrayList<>();
    for (Part p : outputs) {
      targets.add(p.targets());
    }
    return List.copyOf(targets);
  }

  /** Input {@code i}'s features, (N, input shape). */
  public Tensor features(int i) {
    return inputs.get(i);
  }

  @Override
  public void read(int[] indices, int from, int count, Batch batch) {
    for (int k = 0; k < inputs.size(); k++) {
      float[] x = inputs.get(k).readArray();
      int n = batch.sampleShapes().get(k).size();
      for (int r = 0; r < count; r++) {
        int i = indices == null ? from + r : indices[from + r];
        System.arraycopy(x, i * n, batch.features(k), r * n, n);
      }
    }
    for (int j = 0; j < outputs.size(); j++) {
      Part p = outputs.get(j);
      float[] y = p.values() == null ? null : p.values().readArray();
      int m = p.targets().valueSize();
      for (int r = 0; r < count; r++) {
        int i = indices == null ? from + r : indices[from + r];
        if (p.labels() != null) {
          batch.labels(j)[r] = p.labels()[i];
        } else {
          System.arraycopy(y, i * m, batch.values(j), r * m, m);
        }
      }
    }
    batch.setRows(count);
  }
}
