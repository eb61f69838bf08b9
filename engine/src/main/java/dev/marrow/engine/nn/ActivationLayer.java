package dev.marrow.engine.nn;

import dev.marrow.engine.backend.Activation;
import dev.marrow.engine.backend.Backend;
import dev.marrow.engine.tensor.Shape;
import dev.marrow.engine.tensor.Tensor;
import java.util.Map;

/**
 * Keras' {@code Activation} layer: applies an activation element-wise (softmax over the last axis).
 */
public final class ActivationLayer extends Layer {
  private final Activation activation;

  public ActivationLayer(Activation activation) {
    this.activation = activation;
  }

  public ActivationLayer(String activation) {
    this(Activation.fromName(activation));
  }

  @Override
  public String className() {
    return "Activation";
  }

  public Activation activation() {
    return activation;
  }

  @Override
  public String typeName() {
    return "activation";
  }

  @Override
  public Shape computeOutputShape(Shape inputShape) {
    return inputShape;
  }

  @Override
  public Map<String, Object> config() {
    Map<String, Object> c = super.config();
    c.put("activation", activation.kerasName());
    return c;
  }

  /** y, as cuDNN's backward takes it; x too for the activations whose derivative needs it. */
  @Override
  public BackwardReads backwardReads() {
    return BackwardReads.of(activation.backwardNeedsInput(), true);
  }

  @Override
  public LayerStep compile(CompileContext ctx, Tensor x, Tensor dx) {
    Backend b = ctx.backend();
    int rows = ctx.batch(), cols = outputShape().dim(-1);
    return new BufferedStep(ctx.output(outputShape()), ctx.outputGrad(outputShape())) {
      @Override
      public void forward(boolean training) {
        if (activation == Activation.SOFTMAX) {
          b.softmaxForward(x, y, y.size() / cols, cols);
        } else {
          b.activationForward(activation, x, y);
        }
      }

      @Override
      public void backward() {
        if (dx == null) {
          return;
        }
        if (activation == Activation.SOFTMAX) {
          b.softmaxBackward(y, dy, dx, y.size() / cols, cols);
        } else {
          b.activationBackward(activation, x, y, dy, dx);
        }
      }
    };
  }
}
