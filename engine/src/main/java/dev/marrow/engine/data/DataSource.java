package dev.marrow.engine.data;

import dev.marrow.engine.tensor.Shape;
import java.util.List;

/**
 * Where training, evaluation and prediction read samples from: a fixed number of samples of one
 * shape, with their targets, readable in any order (for a model with several inputs or outputs, a
 * sample has a part per input and targets per output). {@link Dataset} holds them in memory; a
 * streaming source reads them from disk as they are asked for, and the trainer then reads the next
 * batch on a prefetching thread while the current one trains.
 *
 * <p>{@link #read} may be called from a thread other than the one that made the source, but never
 * from two threads at once.
 */
public interface DataSource {

  int size();

  /** The shape of one sample, e.g. (1, 28, 28) or (13) for a table's features. */
  Shape sampleShape();

  Targets targets();

  /**
   * The sample shape of each model input, in the model's input order: {@link #sampleShape()} alone
   * unless the source feeds a model with several inputs ({@link MultiDataset}).
   */
  default List<Shape> inputShapes() {
    return List.of(sampleShape());
  }

  /**
   * The targets of each model output, in the model's output order: {@link #targets()} alone unless
   * the source feeds a model with several outputs ({@link MultiDataset}).
   */
  default List<Targets> outputTargets() {
    return List.of(targets());
  }

  /**
   * Copies samples {@code indices[from .. from+count)} (samples {@code from .. from+count} when
   * indices is null) and their targets into rows [0, count) of {@code batch}, and sets its row
   * count.
   */
  void read(int[] indices, int from, int count, Batch batch);

  /** Whether reads go to disk, so that prefetching on another thread pays. */
  default boolean streams() {
    return false;
  }

  /** A batch buffer for this source's samples. */
  default Batch newBatch(int capacity) {
    return new Batch(capacity, inputShapes(), outputTargets());
  }

  /** The samples at these indices, in this order, as a source of its own (no copy). */
  default DataSource subset(int[] indices) {
    return new Subset(this, indices);
  }

  /** Samples [from, to), as a source of its own (no copy). */
  default DataSource range(int from, int to) {
    if (from < 0 || to > size() || from > to) {
      throw new IllegalArgumentException(
          "range [" + from + ", " + to + ") is outside a data set of " + size());
    }
    int[] indices = new int[to - from];
    for (int i = 0; i < indices.length; i++) {
      indices[i] = from + i;
    }
    return subset(indices);
  }
}
