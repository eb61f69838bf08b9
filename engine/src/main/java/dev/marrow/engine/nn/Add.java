package dev.marrow.engine.nn;

import dev.marrow.engine.backend.Backend;
import dev.marrow.engine.tensor.Shape;
import dev.marrow.engine.tensor.Tensor;
import java.util.List;

/** Keras' {@code Add}: the element-wise sum of inputs of one shape (a residual connection). */
public final class Add extends MergeLayer {
  @Override
  public String typeName() {
    return "add";
  }

  @Override
  public Shape computeOutputShape(List<Shape> inputShapes) {
    return requireEqualShapes("Add", inputShapes);
  }

  // x_i: (N, shape) each → y: (N, shape) = Σ x_i; dx_i = dy.
  @Override
  public BackwardReads backwardReads() {
    return BackwardReads.NOTHING;
  }

  @Override
  public LayerStep compile(CompileContext ctx, List<Tensor> xs, List<Tensor> dxs) {
    Backend b = ctx.backend();
    Tensor y = ctx.output(outputShape());
    Tensor dy = ctx.outputGrad(outputShape());
    return new BufferedStep(y, dy) {
      @Override
      public void forward(boolean training) {
        sum(b, xs, y);
      }

      @Override
      public void backward() {
        for (int i = 0; i < dxs.size(); i++) {
          if (dxs.get(i) != null) {
            b.copy(dy, dxs.get(i));
          }
        }
      }
    };
  }
}
