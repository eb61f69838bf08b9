package dev.marrow.engine.nn;

import dev.marrow.engine.backend.Activation;
import dev.marrow.engine.backend.Backend;
import dev.marrow.engine.tensor.Shape;
import dev.marrow.engine.tensor.Tensor;
import java.util.List;

/** Keras' {@code Add}: the element-wise sum of inputs of one shape (a residual connection). */
public final class Add extends MergeLayer implements ReluFusable {
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
    return compile(ctx, xs, dxs, false);
  }

  /**
   * The step, with {@code relu}: y = max(0, Σ x_i), the ReLU that reads this Add folded in ({@link
   * Fusion}); its backward takes the ReLU's output gradient, dx_i = dy · [y > 0], computed once
   * into the first input's gradient and copied to the others.
   */
  @Override
  public LayerStep compileWithRelu(CompileContext ctx, List<Tensor> xs, List<Tensor> dxs) {
    return compile(ctx, xs, dxs, true);
  }

  // the fused step's backward masks dy by the ReLU's test on y
  @Override
  public BackwardReads backwardReadsWithRelu() {
    return BackwardReads.OUTPUT;
  }

  private LayerStep compile(CompileContext ctx, List<Tensor> xs, List<Tensor> dxs, boolean relu) {
    Backend b = ctx.backend();
    Tensor y = ctx.output(outputShape());
    Tensor dy = ctx.outputGrad(outputShape());
    return new BufferedStep(y, dy) {
      @Override
      public void forward(boolean training) {
        if (relu && xs.size() == 2) {
          b.addRelu(xs.get(0), xs.get(1), y);
        } else {
          sum(b, xs, y);
          if (relu) {
            b.activationForward(Activation.RELU, y, y);
          }
        }
      }

      @Override
      public void backward() {
        Tensor first = null;
        for (int i = 0; i < dxs.size(); i++) {
          Tensor dx = dxs.get(i);
          if (dx == null) {
            continue;
          }
          if (first != null) {
            b.copy(first, dx);
          } else if (relu) {
            b.activationBackward(Activation.RELU, null, y, dy, dx);
            first = dx;
          } else {
            b.copy(dy, dx);
          }
        }
      }
    };
  }
}
