package dev.marrow.engine.nn;

import dev.marrow.engine.tensor.Shape;
import dev.marrow.engine.tensor.Tensor;
import java.util.Arrays;
import java.util.Map;

/**
 * Gives each sample a new shape with the same number of elements; {@link Flatten} is the common
 * case. Costs nothing at run time: output and gradient are views of the input's buffers.
 */
public class Reshape extends Layer {
  private final Shape target;

  /** {@code new Reshape(1, 28, 28)}; a null target flattens. */
  public Reshape(int... targetShape) {
    this.target = targetShape == null ? null : Shape.of(targetShape);
  }

  @Override
  public String typeName() {
    return "reshape";
  }

  @Override
  public Shape computeOutputShape(Shape inputShape) {
    Shape out = target == null ? Shape.of(inputShape.size()) : target;
    if (out.size() != inputShape.size()) {
      throw new IllegalArgumentException(
          "cannot reshape "
              + inputShape
              + " ("
              + inputShape.size()
              + " elements) to "
              + out
              + " ("
              + out.size()
              + " elements)");
    }
    return out;
  }

  @Override
  public Map<String, Object> config() {
    Map<String, Object> c = super.config();
    if (target != null) {
      c.put("target_shape", Arrays.stream(target.dims()).boxed().toList());
    }
    return c;
  }

  /** Nothing: output and gradient are views of the input's buffers. */
  @Override
  public BackwardReads backwardReads() {
    return BackwardReads.NOTHING;
  }

  @Override
  public LayerStep compile(CompileContext ctx, Tensor x, Tensor dx) {
    Shape batchShape = outputShape().withBatch(ctx.batch());
    Tensor y = x.reshape(batchShape);
    // Without an upstream gradient the buffer still has to exist for the next layer to write into.
    Tensor dy = dx != null ? dx.reshape(batchShape) : ctx.outputGrad(outputShape());
    return new LayerStep() {
      @Override
      public Tensor output() {
        return y;
      }

      @Override
      public Tensor outputGrad() {
        return dy;
      }

      @Override
      public void forward(boolean training) {}

      @Override
      public void backward() {}
    };
  }
}
