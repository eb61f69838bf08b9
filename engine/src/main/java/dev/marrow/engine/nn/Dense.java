package dev.marrow.engine.nn;

import dev.marrow.engine.backend.Activation;
import dev.marrow.engine.backend.Backend;
import dev.marrow.engine.init.Initializer;
import dev.marrow.engine.tensor.Shape;
import dev.marrow.engine.tensor.Tensor;
import java.util.List;
import java.util.Map;
import java.util.random.RandomGenerator;

/**
 * Fully connected layer: {@code y = activation(x · W + b)}, W of shape (in, out) as in Keras. The
 * activation is fused: its backward runs in place on the incoming gradient. An activation whose
 * derivative needs its input (gelu, silu, softplus) keeps the pre-activation z = x·W + b when the
 * plan trains, and then runs as a pass of its own.
 */
public final class Dense extends Layer {
  private final int units;
  private final Activation activation;
  private final boolean useBias;
  private final Initializer kernelInitializer;
  private final Initializer biasInitializer;
  private float l2;
  private Parameter weight;
  private Parameter bias;

  public Dense(int units) {
    this(units, Activation.LINEAR);
  }

  public Dense(int units, Activation activation) {
    this(units, activation, true, Initializer.glorotUniform(), Initializer.zeros());
  }

  /** Keras-style: {@code new Dense(128, "relu")}. */
  public Dense(int units, String activation) {
    this(units, Activation.fromName(activation));
  }

  public Dense(
      int units,
      Activation activation,
      boolean useBias,
      Initializer kernelInitializer,
      Initializer biasInitializer) {
    if (units <= 0) {
      throw new IllegalArgumentException("Dense units must be positive, got " + units);
    }
    this.units = units;
    this.activation = activation;
    this.useBias = useBias;
    this.kernelInitializer = kernelInitializer;
    this.biasInitializer = biasInitializer;
  }

  /** Keras' {@code kernel_regularizer=L2(l2)}: adds l2·Σw² to the loss. Returns this layer. */
  public Dense l2(double l2) {
    if (!(l2 >= 0)) {
      throw new IllegalArgumentException("l2 must be >= 0, got " + l2);
    }
    this.l2 = (float) l2;
    return this;
  }

  @Override
  public float l2Penalty(Backend backend) {
    return l2 == 0 ? 0 : l2 * backend.sumOfSquares(weight.value());
  }

  @Override
  public String typeName() {
    return "dense";
  }

  public int units() {
    return units;
  }

  public Activation activation() {
    return activation;
  }

  @Override
  public Shape computeOutputShape(Shape inputShape) {
    if (inputShape.rank() != 1) {
      throw new IllegalArgumentException(
          "Dense expects a flat input (features,), got "
              + inputShape
              + "; put a Flatten layer before it");
    }
    return Shape.of(units);
  }

  @Override
  protected void createParameters(Shape inputShape, RandomGenerator random) {
    int in = inputShape.dim(0);
    weight = newParameter("weight", in, units);
    kernelInitializer.initialize(weight.value(), in, units, random);
    if (useBias) {
      bias = newParameter("bias", units);
      biasInitializer.initialize(bias.value(), in, units, random);
    }
  }

  @Override
  public List<Parameter> parameters() {
    return present(weight, bias);
  }

  @Override
  public Map<String, Object> config() {
    Map<String, Object> c = super.config();
    c.put("units", units);
    c.put("activation", activation.kerasName());
    c.put("use_bias", useBias);
    if (l2 != 0) {
      c.put("l2", (double) l2);
    }
    return c;
  }

  /** x for the weight gradient; y for the activation's derivative, unless it is linear. */
  @Override
  public BackwardReads backwardReads() {
    return BackwardReads.of(true, activation != Activation.LINEAR);
  }

  @Override
  public LayerStep compile(CompileContext ctx, Tensor x, Tensor dx) {
    Backend b = ctx.backend();
    int batch = ctx.batch(), in = inputShape().dim(0);
    Tensor w = weight.value();
    Tensor z = preActivation(ctx, activation, outputShape());
    return new BufferedStep(ctx.output(outputShape()), ctx.outputGrad(outputShape())) {
      // x is (batch, in), W is (in, units), y is (batch, units)
      @Override
      public void forward(boolean training) {
        if (z != null) {
          b.gemm(false, false, batch, units, in, 1f, x, 0, in, w, 0, units, 0f, z, 0, units);
          if (bias != null) {
            b.biasAdd(z, bias.value(), batch, units);
          }
          b.activationForward(activation, z, y);
          return;
        }
        b.gemm(false, false, batch, units, in, 1f, x, 0, in, w, 0, units, 0f, y, 0, units);
        if (activation == Activation.SOFTMAX) {
          if (bias != null) {
            b.biasAdd(y, bias.value(), batch, units);
          }
          applyActivation(b, activation, y, batch, units);
        } else if (bias != null || activation != Activation.LINEAR) {
          b.biasActivation(y, bias == null ? null : bias.value(), activation, batch, units);
        }
      }

      @Override
      public void backward() {
        // dz = dy · f'(z), in place: dy is rewritten by the next layer on every step anyway.
        applyActivationBackward(b, activation, z, y, dy, batch, units);
        // dW = xᵀ · dz (in, units); db = Σ_batch dz; dx = dz · Wᵀ (batch, in)
        b.gemm(
            true, false, in, units, batch, 1f, x, 0, in, dy, 0, units, 0f, weight.grad(), 0, units);
        if (l2 != 0) {
          b.axpy(2 * l2, w, weight.grad());
        }
        if (bias != null) {
          b.biasGrad(dy, bias.grad(), batch, units, 0f);
        }
        if (dx != null) {
          b.gemm(false, true, batch, in, units, 1f, dy, 0, units, w, 0, units, 0f, dx, 0, in);
        }
      }
    };
  }

  static void applyActivation(Backend b, Activation kind, Tensor y, int rows, int cols) {
    if (kind == Activation.SOFTMAX) {
      b.softmaxForward(y, y, rows, cols);
    } else if (kind != Activation.LINEAR) {
      b.activationForward(kind, y, y);
    }
  }

  /** dy = dy · f'(z) in place, from the output y or the pre-activation z (null unless kept). */
  static void applyActivationBackward(
      Backend b, Activation kind, Tensor z, Tensor y, Tensor dy, int rows, int cols) {
    if (kind == Activation.SOFTMAX) {
      b.softmaxBackward(y, dy, dy, rows, cols);
    } else if (kind != Activation.LINEAR) {
      b.activationBackward(kind, z, y, dy, dy);
    }
  }

  /**
   * A buffer for the pre-activation when a training plan will need it for the activation's
   * derivative; null otherwise, and the bias and activation are then fused in place on y.
   */
  static Tensor preActivation(CompileContext ctx, Activation kind, Shape outputShape) {
    return ctx.training() && kind.backwardNeedsInput() ? ctx.saved(outputShape) : null;
  }
}
