package dev.marrow.engine.optim;

import dev.marrow.engine.backend.Backend;
import dev.marrow.engine.nn.Parameter;
import dev.marrow.engine.tensor.Tensor;
import java.util.List;

/**
 * Adam with Keras' defaults (β1 0.9, β2 0.999, ε 1e-7). Weight decay is L2 added to the gradient as
 * in torch.optim.Adam, or decoupled as in AdamW ({@link #adamW}).
 */
public final class Adam extends Optimizer {
  private final float beta1;
  private final float beta2;
  private final float epsilon;
  private final float weightDecay;
  private final boolean decoupled;

  public Adam(double learningRate) {
    this(learningRate, 0.9, 0.999, 1e-7, 0, false);
  }

  public Adam(
      double learningRate,
      double beta1,
      double beta2,
      double epsilon,
      double weightDecay,
      boolean decoupledWeightDecay) {
    super(learningRate);
    if (!(beta1 >= 0 && beta1 < 1) || !(beta2 >= 0 && beta2 < 1)) {
      throw new IllegalArgumentException(
          "Adam betas must be in [0, 1), got beta1=" + beta1 + " beta2=" + beta2);
    }
    if (!(epsilon > 0)) {
      throw new IllegalArgumentException("Adam epsilon must be > 0, got " + epsilon);
    }
    if (!(weightDecay >= 0)) {
      throw new IllegalArgumentException("weight decay must be >= 0, got " + weightDecay);
    }
    this.beta1 = (float) beta1;
    this.beta2 = (float) beta2;
    this.epsilon = (float) epsilon;
    this.weightDecay = (float) weightDecay;
    this.decoupled = decoupledWeightDecay;
  }

  /** AdamW: Adam with weight decay applied to the weights directly (Loshchilov &amp; Hutter). */
  public static Adam adamW(double learningRate, double weightDecay) {
    return new Adam(learningRate, 0.9, 0.999, 1e-7, weightDecay, true);
  }

  @Override
  public void attach(Backend backend, List<Parameter> parameters) {
    for (Parameter p : parameters) {
      if (p.slots().length == 0) {
        p.setSlots(
            new Tensor[] {
              backend.allocate(p.value().shape()), backend.allocate(p.value().shape())
            });
      }
    }
  }

  @Override
  protected void update(Backend backend, Parameter p, int step) {
    Tensor[] s = p.slots();
    backend.adamUpdate(
        p.value(),
        p.grad(),
        s[0],
        s[1],
        learningRate(),
        beta1,
        beta2,
        epsilon,
        step,
        weightDecay,
        decoupled);
  }

  @Override
  public String describe() {
    return "adam(lr="
        + learningRate()
        + ", beta1="
        + beta1
        + ", beta2="
        + beta2
        + ", epsilon="
        + epsilon
        + ", weight_decay="
        + weightDecay
        + (decoupled ? ", decoupled" : "")
        + ")";
  }
}
