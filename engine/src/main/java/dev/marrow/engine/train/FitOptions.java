package dev.marrow.engine.train;

import dev.marrow.engine.data.Augmentation;
import dev.marrow.engine.data.DataSource;
import dev.marrow.engine.train.callbacks.ProgressLogger;
import java.util.ArrayList;
import java.util.List;

/**
 * Arguments of {@link Trainer#fit}, with Keras' defaults: 1 epoch, batch 32, shuffled, no
 * validation. {@code validationSplit} holds out the <em>last</em> fraction of the training data
 * before shuffling, as Keras does.
 */
public final class FitOptions {
  private int epochs = 1;
  private int batchSize = 32;
  private boolean shuffle = true;
  private double validationSplit;
  private DataSource validationData;
  private Augmentation augmentation;
  private long seed = 42;
  private int initialEpoch;
  private final List<Callback> callbacks = new ArrayList<>();
  private ProgressLogger.Verbosity verbosity = ProgressLogger.Verbosity.EPOCH;

  private FitOptions() {}

  public static FitOptions defaults() {
    return new FitOptions();
  }

  public FitOptions epochs(int epochs) {
    if (epochs < 1) {
      throw new IllegalArgumentException("epochs must be at least 1, got " + epochs);
    }
    this.epochs = epochs;
    return this;
  }

  public FitOptions batchSize(int batchSize) {
    if (batchSize < 1) {
      throw new IllegalArgumentException("batch size must be at least 1, got " + batchSize);
    }
    this.batchSize = batchSize;
    return this;
  }

  public FitOptions shuffle(boolean shuffle) {
    this.shuffle = shuffle;
    return this;
  }

  public FitOptions validationSplit(double fraction) {
    if (!(fraction >= 0 && fraction < 1)) {
      throw new IllegalArgumentException("validation split must be in [0, 1), got " + fraction);
    }
    this.validationSplit = fraction;
    return this;
  }

  /**
   * A random transform of each training batch (e.g. {@link
   * dev.marrow.engine.data.ImageAugmentation}), seeded by the fit's seed, epoch and step; never
   * applied to validation data.
   */
  public FitOptions augmentation(Augmentation augmentation) {
    this.augmentation = augmentation;
    return this;
  }

  /** The augmentation, or null for none. */
  public Augmentation augmentation() {
    return augmentation;
  }

  public FitOptions validationData(DataSource data) {
    this.validationData = data;
    return this;
  }

  /** Seeds shuffling and dropout; the same seed and thread count give the same run. */
  public FitOptions seed(long seed) {
    this.seed = seed;
    return this;
  }

  /**
   * Keras' initial_epoch: the number of epochs already done (by a run being resumed); training runs
   * epochs initialEpoch + 1 … epochs, with the same shuffles and masks those epochs would have had
   * in one uninterrupted run.
   */
  public FitOptions initialEpoch(int initialEpoch) {
    if (initialEpoch < 0) {
      throw new IllegalArgumentException("initial epoch must be >= 0, got " + initialEpoch);
    }
    this.initialEpoch = initialEpoch;
    return this;
  }

  public int initialEpoch() {
    return initialEpoch;
  }

  /**
   * What {@code fit} reports by itself (Keras' {@code verbose}): {@code SILENT}; {@code EPOCH}, the
   * default, one line per epoch through System.Logger ({@code dev.marrow.engine.train}, INFO); or
   * {@code LIVE}, a line rewritten in place on the console. See {@link ProgressLogger}.
   */
  public FitOptions verbose(ProgressLogger.Verbosity verbosity) {
    this.verbosity = java.util.Objects.requireNonNull(verbosity, "verbosity");
    return this;
  }

  public ProgressLogger.Verbosity verbosity() {
    return verbosity;
  }

  public FitOptions callback(Callback callback) {
    callbacks.add(callback);
    return this;
  }

  public int epochs() {
    return epochs;
  }

  public int batchSize() {
    return batchSize;
  }

  public boolean shuffle() {
    return shuffle;
  }

  public double validationSplit() {
    return validationSplit;
  }

  public DataSource validationData() {
    return validationData;
  }

  public long seed() {
    return seed;
  }

  /** The callbacks added, then the progress logger of {@link #verbose} unless silent. */
  public List<Callback> callbacks() {
    if (verbosity == ProgressLogger.Verbosity.SILENT) {
      return List.copyOf(callbacks);
    }
    List<Callback> all = new ArrayList<>(callbacks);
    all.add(ProgressLogger.of(verbosity));
    return List.copyOf(all);
  }
}
