package dev.marrow.engine.backend;

import dev.marrow.engine.tensor.Tensor;

/**
 * What one batch normalisation passes to every call, as cuDNN's scale-bias-mean-var descriptor and
 * its scalars would: x is (n, c, spatial) with per-channel statistics; γ and β of c floats; the
 * running mean and variance (updated by training: running = (1 − factor)·running + factor·batch);
 * ε; and where the training forward saves the batch mean and 1/sqrt(var + ε) for the backward. A
 * layer builds it once when its plan compiles, so a step passes one reference and allocates
 * nothing. Inference calls read neither factor nor the saved statistics (null for a layer that only
 * infers).
 */
public record BatchNormArgs(
    int n,
    int c,
    int spatial,
    Tensor gamma,
    Tensor beta,
    Tensor runningMean,
    Tensor runningVar,
    float factor,
    float epsilon,
    Tensor savedMean,
    Tensor savedInvStd) {

  public BatchNormArgs {
    if (n < 1 || c < 1 || spatial < 1) {
      throw new IllegalArgumentException(
          "batch norm needs n, c, spatial >= 1, got (" + n + ", " + c + ", " + spatial + ")");
    }
  }
}
