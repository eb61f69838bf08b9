package dev.marrow.engine.train.callbacks;

import dev.marrow.engine.train.BatchLogs;
import dev.marrow.engine.train.Callback;
import dev.marrow.engine.train.TrainingContext;
import java.util.function.DoubleUnaryOperator;
import java.util.function.IntToDoubleFunction;

/**
 * Sets the learning rate at the start of each epoch from a schedule of the epoch number (from 1),
 * like Keras' LearningRateScheduler, or before every step from the fraction of the run done, like
 * Keras' learning-rate schedule objects. Factories for the usual shapes: step, exponential, cosine
 * (per epoch) and cosine decay (per step). A per-step schedule follows the epoch of the fit it is
 * in: give each fit its own instance.
 */
public final class LearningRateSchedule implements Callback {
  private final IntToDoubleFunction schedule;
  // One of the two is null: the rate of the epoch number, or of the fraction of the run's steps
  // done.
  private final DoubleUnaryOperator ofRunFraction;
  private final String description;
  private int epoch;

  public LearningRateSchedule(IntToDoubleFunction schedule, String description) {
    this(schedule, null, description);
  }

  private LearningRateSchedule(
      IntToDoubleFunction schedule, DoubleUnaryOperator ofRunFraction, String description) {
    this.schedule = schedule;
    this.ofRunFraction = ofRunFraction;
    this.description = description;
  }

  /** lr · drop^floor((epoch − 1) / every). */
  public static LearningRateSchedule step(double lr, double drop, int every) {
    if (every < 1 || !(drop > 0)) {
      throw new IllegalArgumentException("step schedule needs every >= 1 and drop > 0");
    }
    return new LearningRateSchedule(
        e -> lr * Math.pow(drop, (e - 1) / every),
        "step(lr=" + lr + ", drop=" + drop + ", every=" + every + ")");
  }

  /** lr · rate^(epoch − 1). */
  public static LearningRateSchedule exponential(double lr, double rate) {
    if (!(rate > 0)) {
      throw new IllegalArgumentException("exponential schedule needs rate > 0");
    }
    return new LearningRateSchedule(
        e -> lr * Math.pow(rate, e - 1), "exponential(lr=" + lr + ", rate=" + rate + ")");
  }

  /** Cosine decay from lr to minLr over {@code epochs} epochs. */
  public static LearningRateSchedule cosine(double lr, double minLr, int epochs) {
    if (epochs < 1) {
      throw new IllegalArgumentException("cosine schedule needs epochs >= 1");
    }
    return new LearningRateSchedule(
        e -> minLr + 0.5 * (lr - minLr) * (1 + Math.cos(Math.PI * (e - 1) / epochs)),
        "cosine(lr=" + lr + ", min_lr=" + minLr + ", epochs=" + epochs + ")");
  }

  /**
   * Cosine decay from lr towards minLr over every step of the run, set before each step (Keras'
   * CosineDecay with decay_steps = epochs × steps an epoch): the last epoch ends near minLr instead
   * of spending its steps at the per-epoch cosine's last value (a quarter of lr over three epochs).
   */
  public static LearningRateSchedule cosineDecay(double lr, double minLr) {
    if (!(lr > 0) || !(minLr >= 0 && minLr <= lr)) {
      throw new IllegalArgumentException(
          "cosine decay needs lr > 0 and 0 <= min_lr <= lr, got lr=" + lr + ", min_lr=" + minLr);
    }
    DoubleUnaryOperator cosine = f -> minLr + 0.5 * (lr - minLr) * (1 + Math.cos(Math.PI * f));
    return new LearningRateSchedule(
        null, cosine, "cosine_decay(lr=" + lr + ", min_lr=" + minLr + ", per step)");
  }

  /** The rate of the epoch (per-epoch schedules only). */
  public double rateAt(int epoch) {
    if (schedule == null) {
      throw new IllegalStateException(description + " sets its rate per step, not per epoch");
    }
    return schedule.applyAsDouble(epoch);
  }

  /** The rate after {@code done} of the run's {@code total} steps (per-step schedules only). */
  public double rateAtStep(long done, long total) {
    if (ofRunFraction == null) {
      throw new IllegalStateException(description + " sets its rate per epoch, not per step");
    }
    if (total < 1) {
      throw new IllegalArgumentException("a run of " + total + " steps has no rate");
    }
    return ofRunFraction.applyAsDouble(Math.min(done, total) / (double) total);
  }

  @Override
  public void onEpochBegin(TrainingContext ctx, int epoch) {
    this.epoch = epoch;
    ctx.optimizer().setLearningRate(ofRunFraction == null ? rateAt(epoch) : rateAtStep(ctx, 0));
  }

  // The last step's rate stays set after the epoch, so the epoch's logs report the rate it ended
  // on.
  @Override
  public void onBatchEnd(TrainingContext ctx, int batch, BatchLogs logs) {
    if (ofRunFraction != null && batch + 1 < ctx.stepsPerEpoch()) {
      ctx.optimizer().setLearningRate(rateAtStep(ctx, batch + 1));
    }
  }

  private double rateAtStep(TrainingContext ctx, int stepInEpoch) {
    long steps = ctx.stepsPerEpoch();
    return rateAtStep((epoch - 1) * steps + stepInEpoch, ctx.epochs() * steps);
  }

  @Override
  public String toString() {
    return description;
  }
}
