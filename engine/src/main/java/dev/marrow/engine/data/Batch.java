package dev.marrow.engine.data;

import dev.marrow.engine.tensor.Shape;
import java.util.List;

/**
 * A reusable buffer for up to {@code capacity} samples and their targets, filled by {@link
 * DataSource#read}. Data pipelines keep a few and refill them, so a training step allocates
 * nothing. A model with several inputs or outputs reads several parts: features per input, targets
 * per output, in the model's order; the accessors without an index are the first part's.
 */
public final class Batch {
  private final List<Shape> sampleShapes;
  private final List<Targets> targets;
  private final float[][] features;
  private final int[][] labels;
  private final float[][] values;
  private final int capacity;
  private int rows;

  public Batch(int capacity, Shape sampleShape, Targets targets) {
    this(capacity, List.of(sampleShape), List.of(targets));
  }

  /**
   * A batch of samples with one part per model input and targets per model output (none for
   * features alone).
   */
  public Batch(int capacity, List<Shape> sampleShapes, List<Targets> targets) {
    if (capacity < 1) {
      throw new IllegalArgumentException("batch capacity must be positive, got " + capacity);
    }
    if (sampleShapes.isEmpty()) {
      throw new IllegalArgumentException("a batch needs at least one input");
    }
    this.capacity = capacity;
    this.sampleShapes = List.copyOf(sampleShapes);
    this.targets = List.copyOf(targets);
    this.features = new float[sampleShapes.size()][];
    for (int i = 0; i < features.length; i++) {
      features[i] = new float[Math.multiplyExact(capacity, sampleShapes.get(i).size())];
    }
    this.labels = new int[targets.size()][];
    this.values = new float[targets.size()][];
    for (int j = 0; j < labels.length; j++) {
      Targets t = targets.get(j);
      labels[j] = t.isClasses() ? new int[capacity] : null;
      values[j] = t.isClasses() ? null : new float[Math.multiplyExact(capacity, t.valueSize())];
    }
  }

  /** The first input's sample shape. */
  public Shape sampleShape() {
    return sampleShapes.get(0);
  }

  /** Each input's sample shape, in the model's input order. */
  public List<Shape> sampleShapes() {
    return sampleShapes;
  }

  /** The first output's targets. */
  public Targets targets() {
    if (targets.isEmpty()) {
      throw new IllegalStateException("this batch holds features only, no targets");
    }
    return targets.get(0);
  }

  /** Each output's targets, in the model's output order. */
  public List<Targets> outputTargets() {
    return targets;
  }

  public int capacity() {
    return capacity;
  }

  /** Samples held now. */
  public int rows() {
    return rows;
  }

  public void setRows(int rows) {
    if (rows < 0 || rows > capacity()) {
      throw new IllegalArgumentException(rows + " rows in a batch of capacity " + capacity());
    }
    this.rows = rows;
  }

  /** rows × sample size floats, row-major: the first input's. */
  public float[] features() {
    return features[0];
  }

  /** Input {@code i}'s rows × sample size floats. */
  public float[] features(int i) {
    return features[i];
  }

  /** One class index per row; null for value targets. The first output's. */
  public int[] labels() {
    return labels(0);
  }

  /** Output {@code j}'s class indices; null for value targets. */
  public int[] labels(int j) {
    return labels[j];
  }

  /** rows × target size floats; null for class targets. The first output's. */
  public float[] values() {
    return values(0);
  }

  /** Output {@code j}'s rows × target size floats; null for class targets. */
  public float[] values(int j) {
    return values[j];
  }
}
