package dev.marrow.engine.train;

/**
 * Hooks into {@link Trainer#fit}. All methods default to doing nothing. Batch hooks run on the
 * training thread between steps: keep them cheap.
 */
public interface Callback {

  default void onTrainBegin(TrainingContext context) {}

  default void onEpochBegin(TrainingContext context, int epoch) {}

  /**
   * After each step: {@code batch} counts from 0 within the epoch; {@code logs} holds the running
   * loss and metrics over the epoch so far (valid during the call only).
   */
  default void onBatchEnd(TrainingContext context, int batch, BatchLogs logs) {}

  default void onEpochEnd(TrainingContext context, EpochStats stats) {}

  default void onTrainEnd(TrainingContext context, History history) {}
}
