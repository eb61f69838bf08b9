package dev.marrow.engine.nn;

import dev.marrow.engine.backend.Backend;
import dev.marrow.engine.tensor.Shape;
import dev.marrow.engine.tensor.Tensor;
import java.util.List;

/** Keras' {@code Average}: the element-wise mean of inputs of one shape. */
public final class Average extends MergeLayer {
  @Override
  public String typeName() {
    return "average";
  }

  @Override
  public Shape computeOutputShape(List<Shape> inputShapes) {
    return requireEqualShapes("Average", inputShapes);
  }

  // x_i: (N, shape) each, k of them → y = Σ x_i / k; dx_i = dy / k.
  @Override
  public BackwardReads backwardReads() {
    return BackwardReads.NOTHING;
  }

  @Override
  public LayerStep compile(CompileContext ctx, List<Tensor> xs, List<Tensor> dxs) {
    Backend b = ctx.backend();
    Tensor y = ctx.output(outputShape());
    Tensor dy = ctx.outputGrad(outputShape());
    float share = 1f / xs.size();
    return new BufferedStep(y, dy) {
      @Override
      public void forward(boolean training) {
        sum(b, xs, y);
        b.scale(y, share);
      }

      @Override
      public void backward() {
        for (int i = 0; i < dxs.size(); i++) {
          if (dxs.get(i) != null) {
            b.copy(dy, dxs.get(i));
            b.scale(dxs.get(i), share);
          }
        }
      }
    };
  }
}
