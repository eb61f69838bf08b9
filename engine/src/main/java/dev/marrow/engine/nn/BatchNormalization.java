package dev.marrow.engine.nn;

import dev.marrow.engine.backend.Backend;
import dev.marrow.engine.backend.BatchNormArgs;
import dev.marrow.engine.tensor.Shape;
import dev.marrow.engine.tensor.Tensor;
import java.util.List;
import java.util.Map;

/**
 * Batch normalisation over the channel axis: features of a (features,) input, channels of a
 * (channels, h, w) input. Keras' arguments and defaults (momentum 0.99, epsilon 1e-3); parameters
 * and running statistics are named as PyTorch names them (weight = γ, bias = β, running_mean,
 * running_var). In training it normalises with the batch statistics and updates the running ones
 * (with the unbiased variance, as PyTorch and cuDNN do); in inference it uses the running ones.
 */
public final class BatchNormalization extends Layer implements ReluFusable {
  private final float momentum;
  private final float epsilon;
  private Parameter gamma;
  private Parameter beta;
  private Parameter runningMean;
  private Parameter runningVar;

  public BatchNormalization() {
    this(0.99, 1e-3);
  }

  public BatchNormalization(double momentum, double epsilon) {
    if (!(momentum >= 0 && momentum < 1) || !(epsilon > 0)) {
      throw new IllegalArgumentException(
          "BatchNormalization needs momentum in [0, 1) and"
              + " epsilon > 0, got momentum="
              + momentum
              + " epsilon="
              + epsilon);
    }
    this.momentum = (float) momentum;
    this.epsilon = (float) epsilon;
  }

  @Override
  public String typeName() {
    return "bn";
  }

  @Override
  public Shape computeOutputShape(Shape input) {
    if (input.rank() != 1 && input.rank() != 3) {
      throw new IllegalArgumentException(
          "BatchNormalization expects (features,) or (channels,"
              + " height, width) inputs, got "
              + input);
    }
    return input;
  }

  @Override
  protected void createParameters(Shape input, java.util.random.RandomGenerator random) {
    int c = input.dim(0);
    gamma = newParameter("weight", c);
    java.util.Arrays.fill(gamma.value().array(), 1f);
    beta = newParameter("bias", c);
    runningMean = newParameter("running_mean", c);
    runningVar = newParameter("running_var", c);
    java.util.Arrays.fill(runningVar.value().array(), 1f);
  }

  @Override
  public List<Parameter> parameters() {
    return gamma == null ? List.of() : List.of(gamma, beta);
  }

  @Override
  public List<Parameter> buffers() {
    return runningMean == null ? List.of() : List.of(runningMean, runningVar);
  }

  @Override
  public Map<String, Object> config() {
    Map<String, Object> c = super.config();
    c.put("momentum", (double) momentum);
    c.put("epsilon", (double) epsilon);
    return c;
  }

  /** x, with the batch statistics saved in forward; not y. */
  @Override
  public BackwardReads backwardReads() {
    return BackwardReads.INPUTS;
  }

  @Override
  public LayerStep compile(CompileContext ctx, Tensor x, Tensor dx) {
    return compile(ctx, x, dx, false);
  }

  @Override
  public LayerStep compileWithRelu(CompileContext ctx, List<Tensor> xs, List<Tensor> dxs) {
    return compile(ctx, xs.get(0), dxs.get(0), true);
  }

  // its output too: backends without a fused kernel run the ReLU's backward from it
  // (Backend#batchNormReluBackward)
  @Override
  public BackwardReads backwardReadsWithRelu() {
    return BackwardReads.INPUTS_AND_OUTPUT;
  }

  /**
   * The step of this layer, with a ReLU applied to its output when {@code relu} ({@link Fusion}):
   * its output is then the ReLU's, and its output gradient the ReLU's.
   */
  private LayerStep compile(CompileContext ctx, Tensor x, Tensor dx, boolean relu) {
    Backend b = ctx.backend();
    Shape in = inputShape();
    int c = in.dim(0), spatial = in.size() / c;
    BatchNormArgs bn =
        new BatchNormArgs(
            ctx.batch(),
            c,
            spatial,
            gamma.value(),
            beta.value(),
            runningMean.value(),
            runningVar.value(),
            1 - momentum,
            epsilon,
            b.allocate(Shape.of(c)),
            b.allocate(Shape.of(c)));
    // Without an upstream gradient, dx still has to be computed somewhere: a scratch buffer.
    Tensor dxOrScratch = dx != null || !ctx.training() ? dx : ctx.backwardScratch(in);
    return new BufferedStep(ctx.output(outputShape()), ctx.outputGrad(outputShape())) {
      @Override
      public void forward(boolean training) {
        if (training && relu) {
          b.batchNormReluForwardTraining(bn, x, y);
        } else if (training) {
          b.batchNormForwardTraining(bn, x, y);
        } else if (relu) {
          b.batchNormReluForwardInference(bn, x, y);
        } else {
          b.batchNormForwardInference(bn, x, y);
        }
      }

      @Override
      public void backward() {
        if (relu) {
          b.batchNormReluBackward(bn, x, y, dy, dxOrScratch, gamma.grad(), beta.grad());
        } else {
          b.batchNormBackward(bn, x, dy, dxOrScratch, gamma.grad(), beta.grad());
        }
      }
    };
  }
}
