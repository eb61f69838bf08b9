package dev.marrow.engine.nn;

import dev.marrow.engine.tensor.Tensor;
import java.util.List;

/**
 * A layer that can run the ReLU reading it in its own step ({@link Fusion}): its fused step writes
 * max(0, ·) of its output and takes the ReLU's output gradient in its backward pass.
 */
interface ReluFusable {
  /** The layer's step with the ReLU after it folded in. */
  LayerStep compileWithRelu(CompileContext ctx, List<Tensor> xs, List<Tensor> dxs);

  /** What that fused step reads in its backward pass. */
  BackwardReads backwardReadsWithRelu();
}
