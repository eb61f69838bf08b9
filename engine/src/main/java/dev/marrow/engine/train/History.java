package dev.marrow.engine.train;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/** Per-epoch statistics of a fit, like Keras' History. */
public final class History {
  private final List<EpochStats> epochs = new ArrayList<>();

  /** Only a fit writes a history. */
  History() {}

  void add(EpochStats stats) {
    epochs.add(stats);
  }

  public List<EpochStats> epochs() {
    return Collections.unmodifiableList(epochs);
  }

  public EpochStats last() {
    return epochs.getLast();
  }

  /** Sum of the epochs' training seconds. */
  public double trainSeconds() {
    return epochs.stream().mapToDouble(EpochStats::seconds).sum();
  }
}
