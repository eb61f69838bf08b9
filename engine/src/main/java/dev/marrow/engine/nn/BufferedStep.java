package dev.marrow.engine.nn;

import dev.marrow.engine.tensor.Tensor;

/** A {@link LayerStep} over an output buffer and its gradient buffer, allocated by the layer. */
abstract class BufferedStep implements LayerStep {
  protected final Tensor y;
  protected final Tensor dy;

  BufferedStep(Tensor y, Tensor dy) {
    this.y = y;
    this.dy = dy;
  }

  @Override
  public final Tensor output() {
    return y;
  }

  @Override
  public final Tensor outputGrad() {
    return dy;
  }
}
