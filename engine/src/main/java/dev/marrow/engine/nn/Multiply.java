package dev.marrow.engine.nn;

import dev.marrow.engine.backend.Backend;
import dev.marrow.engine.tensor.Shape;
import dev.marrow.engine.tensor.Tensor;
import java.util.List;

/** Keras' {@code Multiply}: the element-wise product of inputs of one shape (gating). */
public final class Multiply extends MergeLayer {
  @Override
  public String typeName() {
    return "multiply";
  }

  @Override
  public Shape computeOutputShape(List<Shape> inputShapes) {
    return requireEqualShapes("Multiply", inputShapes);
  }

  // x_i: (N, shape) each → y = Π x_i; dx_i = dy · Π_{j≠i} x_j.
  @Override
  public BackwardReads backwardReads() {
    return BackwardReads.INPUTS;
  }

  @Override
  public LayerStep compile(CompileContext ctx, List<Tensor> xs, List<Tensor> dxs) {
    Backend b = ctx.backend();
    Tensor y = ctx.output(outputShape());
    Tensor dy = ctx.outputGrad(outputShape());
    return new BufferedStep(y, dy) {
      @Override
      public void forward(boolean training) {
        b.multiply(xs.get(0), xs.get(1), y, false);
        for (int i = 2; i < xs.size(); i++) {
          b.multiply(y, xs.get(i), y, false);
        }
      }

      @Override
      public void backward() {
        for (int i = 0; i < dxs.size(); i++) {
          Tensor dx = dxs.get(i);
          if (dx == null) {
            continue;
          }
          Tensor product = dy;
          for (int j = 0; j < xs.size(); j++) {
            if (j != i) {
              b.multiply(product, xs.get(j), dx, false);
              product = dx;
            }
          }
        }
      }
    };
  }
}
