package dev.marrow.engine.data;

import java.util.SplittableRandom;

/**
 * A random transform of training batches, applied in the data pipeline after reading and before the
 * step (never to validation, evaluation or prediction). The trainer seeds {@code random} from the
 * fit's seed, the epoch and the step, so runs with the same seed see the same transforms.
 */
@FunctionalInterface
public interface Augmentation {
  /** Transforms rows [0, batch.rows()) of the batch's features in place. */
  void apply(Batch batch, SplittableRandom random);
}
