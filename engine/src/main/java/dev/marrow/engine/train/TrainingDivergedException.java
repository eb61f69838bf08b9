package dev.marrow.engine.train;

/**
 * Training produced a non-finite loss. Names the epoch, the step and the first parameter (from the
 * output backwards) whose gradient was not finite, so the user knows where it blew up.
 */
public final class TrainingDivergedException extends RuntimeException {
  private final int epoch;
  private final int step;
  private final String parameter;

  public TrainingDivergedException(int epoch, int step, float loss, String parameter) {
    super(
        "training diverged: the loss became "
            + loss
            + " at epoch "
            + epoch
            + ", step "
            + (step + 1)
            + (parameter == null
                ? " (all gradients finite: the forward pass overflowed)"
                : "; first non-finite gradient (from the output back): " + parameter)
            + ". Lower the learning rate or check the inputs; the last epoch's checkpoint is intact.");
    this.epoch = epoch;
    this.step = step;
    this.parameter = parameter;
  }

  public int epoch() {
    return epoch;
  }

  public int step() {
    return step;
  }

  /** The parameter whose gradient first went non-finite, or null. */
  public String parameter() {
    return parameter;
  }
}
