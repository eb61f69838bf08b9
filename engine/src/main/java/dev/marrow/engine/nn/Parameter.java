package dev.marrow.engine.nn;

import dev.marrow.engine.tensor.Tensor;

/**
 * A trainable tensor with its gradient and optimizer slots. The name is stable ({@code
 * dense1.weight}) so that checkpoints and PyTorch interop line up.
 */
public final class Parameter {
  private final String name;
  private final Tensor value;
  private final Tensor grad;
  private Tensor[] slots = new Tensor[0];

  public Parameter(String name, Tensor value) {
    this.name = name;
    this.value = value;
    this.grad = Tensor.zeros(value.shape());
  }

  public String name() {
    return name;
  }

  public Tensor value() {
    return value;
  }

  /** The gradient of the last backward pass (overwritten, not accumulated, by each step). */
  public Tensor grad() {
    return grad;
  }

  /** Optimizer state (momentum, Adam's m and v), allocated by the optimizer that owns it. */
  public Tensor[] slots() {
    return slots;
  }

  public void setSlots(Tensor[] slots) {
    this.slots = slots;
  }

  @Override
  public String toString() {
    return name + value.shape();
  }
}
