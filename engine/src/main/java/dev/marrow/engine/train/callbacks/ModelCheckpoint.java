package dev.marrow.engine.train.callbacks;

import dev.marrow.engine.io.Checkpoint;
import dev.marrow.engine.train.EpochStats;
import dev.marrow.engine.train.TrainingContext;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.Map;

/**
 * Writes a {@link Checkpoint} (weights, optimizer state, epoch, seed) at the end of every epoch, or
 * with {@code saveBestOnly} only when the monitored quantity improved, like Keras' ModelCheckpoint.
 * Each write replaces the file atomically.
 */
public final class ModelCheckpoint extends Monitor {
  private final Path file;
  private final boolean saveBestOnly;
  private final long seed;
  private final Map<String, String> metadata;
  private int saves;

  public ModelCheckpoint(
      Path file,
      Monitor.Quantity monitor,
      boolean saveBestOnly,
      long seed,
      Map<String, String> metadata) {
    super(monitor);
    this.file = file;
    this.saveBestOnly = saveBestOnly;
    this.seed = seed;
    this.metadata = Map.copyOf(metadata);
  }

  @Override
  public void onEpochEnd(TrainingContext ctx, EpochStats stats) {
    if (saveBestOnly && !improved(stats)) {
      return;
    }
    try {
      Checkpoint.save(file, ctx.model(), ctx.optimizer(), stats.epoch(), seed, metadata);
      saves++;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write checkpoint " + file + ": " + e.getMessage(), e);
    }
  }

  /** How many checkpoints this callback has written. */
  public int saves() {
    return saves;
  }
}
