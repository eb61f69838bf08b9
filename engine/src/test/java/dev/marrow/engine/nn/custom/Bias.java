package dev.marrow.engine.nn.custom;

import dev.marrow.engine.backend.Backend;
import dev.marrow.engine.nn.CompileContext;
import dev.marrow.engine.nn.Layer;
import dev.marrow.engine.nn.LayerRegistry;
import dev.marrow.engine.nn.LayerStep;
import dev.marrow.engine.nn.Parameter;
import dev.marrow.engine.tensor.Shape;
import dev.marrow.engine.tensor.Tensor;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.random.RandomGenerator;

/** A learned offset per feature, y = x + b: a layer of one's own, end to end. */
public final class Bias extends Layer {
  static {
    // model.json names the class; loading finds the factory here.
    LayerRegistry.register("Bias", config -> new Bias((float) config.number("initial", 0)));
  }

  private final float initial;
  private Parameter bias;

  public Bias(float initial) {
    this.initial = initial;
  }

  /** Call once before loading a model that holds this layer (it runs the registration). */
  public static void register() {}

  @Override
  public String typeName() {
    return "bias"; // layers are named bias1, bias2, …; parameters bias1.value
  }

  @Override
  public Shape computeOutputShape(Shape input) {
    if (input.rank() != 1) {
      throw new IllegalArgumentException("Bias expects (features,), got " + input);
    }
    return input;
  }

  @Override
  protected void createParameters(Shape input, RandomGenerator random) {
    bias = newParameter("value", input.dim(0));
    Arrays.fill(bias.value().array(), initial);
  }

  @Override
  public List<Parameter> parameters() {
    return List.of(bias);
  }

  @Override
  public Map<String, Object> config() {
    Map<String, Object> c = super.config();
    c.put("initial", (double) initial);
    return c;
  }

  // x: (N, F) → y: (N, F) = x + b; db = Σ_N dy; dx = dy. Backend kernels only: any device.
  @Override
  public LayerStep compile(CompileContext ctx, Tensor x, Tensor dx) {
    Backend b = ctx.backend();
    int rows = ctx.batch(), cols = inputShape().dim(0);
    Tensor y = ctx.allocateBatch(outputShape());
    Tensor dy = ctx.allocateBatchGrad(outputShape());
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
      public void forward(boolean training) {
        b.copy(x, y);
        b.biasAdd(y, bias.value(), rows, cols);
      }

      @Override
      public void backward() {
        b.biasGrad(dy, bias.grad(), rows, cols, 0f);
        if (dx != null) { // null when nothing before this layer needs a gradient
          b.copy(dy, dx);
        }
      }
    };
  }
}
