package dev.marrow.engine.data;

import dev.marrow.engine.tensor.Shape;

/**
 * A reusable buffer for up to {@code capacity} samples and their targets, filled by {@link
 * DataSource#read}. Data pipelines keep a few and refill them, so a training step allocates
 * nothing.
 */
public final class Batch {
  private final Shape sampleShape;
  private final Targets targets;
  private final float[] features;
  private final int[] labels;
  private final float[] values;
  private int rows;

  public Batch(int capacity, Shape sampleShape, Targets targets) {
    if (capacity < 1) {
      throw new IllegalArgumentException("batch capacity must be positive, got " + capacity);
    }
    this.sampleShape = sampleShape;
    this.targets = targets;
    this.features = new float[Math.multiplyExact(capacity, sampleShape.size())];
    this.labels = targets.isClasses() ? new int[capacity] : null;
    this.values = targets.isClasses() ? null : new float[capacity * targets.valueSize()];
  }

  public Shape sampleShape() {
    return sampleShape;
  }

  public Targets targets() {
    return targets;
  }

  public int capacity() {
    return features.length / Math.max(1, sampleShape.size());
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

  /** rows × sample size floats, row-major. */
  public float[] features() {
    return features;
  }

  /** One class index per row; null for value targets. */
  public int[] labels() {
    return labels;
  }

  /** rows × target size floats; null for class targets. */
  public float[] values() {
    return values;
  }
}
