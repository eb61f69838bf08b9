package dev.marrow.engine.nn;

import dev.marrow.engine.tensor.Tensor;

/**
 * A layer bound to a backend, a batch size and its buffers: what a compiled plan runs. Buffers are
 * allocated once in {@link Layer#compile}; forward and backward only run kernels.
 */
public interface LayerStep {
  /** The activation this step writes (batch × output shape). */
  Tensor output();

  /** The gradient of the loss with respect to {@link #output()}, written by the next step. */
  Tensor outputGrad();

  void forward(boolean training);

  /**
   * Reads outputGrad; writes the input gradient (if the plan wants one) and parameter gradients.
   */
  void backward();
}
