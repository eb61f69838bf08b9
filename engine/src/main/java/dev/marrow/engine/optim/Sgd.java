package dev.marrow.engine.optim;

import dev.marrow.engine.backend.Backend;
import dev.marrow.engine.nn.Parameter;
import dev.marrow.engine.tensor.Tensor;
import java.util.List;

/** Stochastic gradient descent with optional momentum, Nesterov momentum and L2 weight decay. */
public final class Sgd extends Optimizer {
  private final float momentum;
  private final boolean nesterov;
  private final float weightDecay;

  public Sgd(double learningRate) {
    this(learningRate, 0, false, 0);
  }

  public Sgd(double learningRate, double momentum, boolean nesterov, double weightDecay) {
    super(learningRate);
    if (!(momentum >= 0 && momentum < 1)) {
      throw new IllegalArgumentException("SGD momentum must be in [0, 1), got " + momentum);
    }
    if (nesterov && momentum == 0) {
      throw new IllegalArgumentException("Nesterov momentum needs momentum > 0");
    }
    if (!(weightDecay >= 0)) {
      throw new IllegalArgumentException("weight decay must be >= 0, got " + weightDecay);
    }
    this.momentum = (float) momentum;
    this.nesterov = nesterov;
    this.weightDecay = (float) weightDecay;
  }

  @Override
  public void attach(Backend backend, List<Parameter> parameters) {
    for (Parameter p : parameters) {
      if (momentum != 0 && p.slots().length == 0) {
        p.setSlots(new Tensor[] {backend.allocate(p.value().shape())});
      }
    }
  }

  @Override
  protected void update(Backend backend, Parameter p, int step) {
    Tensor velocity = momentum == 0 ? null : p.slots()[0];
    backend.sgdUpdate(
        p.value(), p.grad(), velocity, learningRate(), momentum, nesterov, weightDecay);
  }

  @Override
  public String describe() {
    return "sgd(lr="
        + learningRate()
        + ", momentum="
        + momentum
        + ", nesterov="
        + nesterov
        + ", weight_decay="
        + weightDecay
        + ")";
  }
}
