package dev.marrow.engine.data;

import dev.marrow.engine.tensor.Shape;
import java.util.List;

/** Some samples of another source, by index: splits and folds without copying the data. */
final class Subset implements DataSource {
  private final DataSource parent;
  private final int[] indices;
  private int[] mapped = new int[0];

  Subset(DataSource parent, int[] indices) {
    for (int i : indices) {
      if (i < 0 || i >= parent.size()) {
        throw new IllegalArgumentException(
            "index " + i + " is outside a data set of " + parent.size());
      }
    }
    this.parent = parent;
    this.indices = indices.clone();
  }

  @Override
  public int size() {
    return indices.length;
  }

  @Override
  public Shape sampleShape() {
    return parent.sampleShape();
  }

  @Override
  public Targets targets() {
    return parent.targets();
  }

  @Override
  public List<Shape> inputShapes() {
    return parent.inputShapes();
  }

  @Override
  public List<Targets> outputTargets() {
    return parent.outputTargets();
  }

  @Override
  public boolean streams() {
    return parent.streams();
  }

  @Override
  public void read(int[] order, int from, int count, Batch batch) {
    if (mapped.length < count) {
      mapped = new int[count]; // once per batch size; reads are never concurrent
    }
    for (int r = 0; r < count; r++) {
      mapped[r] = indices[order == null ? from + r : order[from + r]];
    }
    parent.read(mapped, 0, count, batch);
  }
}
