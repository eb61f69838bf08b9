package dev.marrow.engine.nn;

import dev.marrow.engine.backend.Activation;
import dev.marrow.engine.backend.Backend;
import dev.marrow.engine.backend.ConvGeometry;
import dev.marrow.engine.init.Initializer;
import dev.marrow.engine.tensor.Shape;
import dev.marrow.engine.tensor.Tensor;
import java.util.List;
import java.util.Map;
import java.util.random.RandomGenerator;

/**
 * 2-D convolution (cross-correlation) over NCHW inputs with filters of shape (filters, channels,
 * kh, kw), PyTorch's and cuDNN's layout. Keras' arguments: strides, padding, dilation, use_bias, a
 * fused activation (kept apart in training when its derivative needs the pre-activation, as in
 * {@link Dense}), initializers and an L2 kernel regularizer.
 */
public final class Conv2D extends Layer {
  private final int filters;
  private final int kh;
  private final int kw;
  private final int strideH;
  private final int strideW;
  private final Padding padding;
  private final int dilationH;
  private final int dilationW;
  private final boolean useBias;
  private final Activation activation;
  private final Initializer kernelInitializer;
  private final Initializer biasInitializer;
  private final float l2;
  private ConvGeometry geometry;
  private Parameter weight;
  private Parameter bias;

  /** {@code new Conv2D(16, 5, Activation.RELU)}: square kernel, stride 1, valid padding. */
  public Conv2D(int filters, int kernel, Activation activation) {
    this(builder(filters, kernel).activation(activation));
  }

  private Conv2D(Options o) {
    if (o.filters < 1
        || o.kh < 1
        || o.kw < 1
        || o.strideH < 1
        || o.strideW < 1
        || o.dilationH < 1
        || o.dilationW < 1
        || o.l2 < 0) {
      throw new IllegalArgumentException(
          "Conv2D needs positive filters, kernel, strides and" + " dilation and l2 >= 0, got " + o);
    }
    if (o.activation == Activation.SOFTMAX) {
      throw new IllegalArgumentException(
          "Conv2D does not take a softmax activation; apply" + " softmax after Flatten/Dense");
    }
    this.filters = o.filters;
    this.kh = o.kh;
    this.kw = o.kw;
    this.strideH = o.strideH;
    this.strideW = o.strideW;
    this.padding = o.padding;
    this.dilationH = o.dilationH;
    this.dilationW = o.dilationW;
    this.useBias = o.useBias;
    this.activation = o.activation;
    this.kernelInitializer = o.kernelInitializer;
    this.biasInitializer = o.biasInitializer;
    this.l2 = (float) o.l2;
  }

  /** Options with Keras' defaults: stride 1, valid padding, bias, no activation, glorot_uniform. */
  public static Options builder(int filters, int kernel) {
    return new Options(filters, kernel, kernel);
  }

  /** Conv2D arguments; {@link #build()} makes the layer. */
  public static final class Options {
    private final int filters;
    private int kh;
    private int kw;
    private int strideH = 1;
    private int strideW = 1;
    private Padding padding = Padding.VALID;
    private int dilationH = 1;
    private int dilationW = 1;
    private boolean useBias = true;
    private Activation activation = Activation.LINEAR;
    private Initializer kernelInitializer = Initializer.glorotUniform();
    private Initializer biasInitializer = Initializer.zeros();
    private double l2;

    private Options(int filters, int kh, int kw) {
      this.filters = filters;
      this.kh = kh;
      this.kw = kw;
    }

    public Options kernel(int kh, int kw) {
      this.kh = kh;
      this.kw = kw;
      return this;
    }

    public Options strides(int h, int w) {
      strideH = h;
      strideW = w;
      return this;
    }

    public Options strides(int s) {
      return strides(s, s);
    }

    public Options padding(Padding p) {
      padding = p;
      return this;
    }

    public Options dilation(int h, int w) {
      dilationH = h;
      dilationW = w;
      return this;
    }

    public Options dilation(int d) {
      return dilation(d, d);
    }

    public Options useBias(boolean b) {
      useBias = b;
      return this;
    }

    public Options activation(Activation a) {
      activation = a;
      return this;
    }

    public Options kernelInitializer(Initializer i) {
      kernelInitializer = i;
      return this;
    }

    public Options biasInitializer(Initializer i) {
      biasInitializer = i;
      return this;
    }

    /** Keras' {@code kernel_regularizer=L2(l2)}: adds l2·Σw² to the loss. */
    public Options l2(double l2) {
      this.l2 = l2;
      return this;
    }

    public Conv2D build() {
      return new Conv2D(this);
    }

    @Override
    public String toString() {
      return "filters="
          + filters
          + " kernel="
          + kh
          + "×"
          + kw
          + " strides="
          + strideH
          + "×"
          + strideW
          + " dilation="
          + dilationH
          + "×"
          + dilationW
          + " l2="
          + l2;
    }
  }

  @Override
  public String typeName() {
    return "conv";
  }

  @Override
  public Shape computeOutputShape(Shape input) {
    ConvGeometry g =
        SpatialLayer.geometry(
            input, filters, kh, kw, strideH, strideW, padding, dilationH, dilationW, "Conv2D");
    return Shape.of(filters, g.outH(), g.outW());
  }

  @Override
  protected void createParameters(Shape input, RandomGenerator random) {
    geometry =
        SpatialLayer.geometry(
            input, filters, kh, kw, strideH, strideW, padding, dilationH, dilationW, name());
    int c = input.dim(0);
    weight = newParameter("weight", filters, c, kh, kw);
    kernelInitializer.initialize(weight.value(), c * kh * kw, filters * kh * kw, random);
    if (useBias) {
      bias = newParameter("bias", filters);
      biasInitializer.initialize(bias.value(), c * kh * kw, filters * kh * kw, random);
    }
  }

  @Override
  public List<Parameter> parameters() {
    return present(weight, bias);
  }

  @Override
  public float l2Penalty(Backend backend) {
    return l2 == 0 ? 0 : l2 * backend.sumOfSquares(weight.value());
  }

  @Override
  public Map<String, Object> config() {
    Map<String, Object> c = super.config();
    c.put("filters", filters);
    c.put("kernel_size", List.of(kh, kw));
    c.put("strides", List.of(strideH, strideW));
    c.put("padding", padding.toConfig());
    c.put("dilation_rate", List.of(dilationH, dilationW));
    c.put("use_bias", useBias);
    c.put("activation", activation.kerasName());
    if (l2 != 0) {
      c.put("l2", (double) l2);
    }
    return c;
  }

  /** x for the filter gradient; y for the activation's derivative, unless it is linear. */
  @Override
  public BackwardReads backwardReads() {
    return BackwardReads.of(true, activation != Activation.LINEAR);
  }

  @Override
  public LayerStep compile(CompileContext ctx, Tensor x, Tensor dx) {
    Backend b = ctx.backend();
    ConvGeometry g = SpatialLayer.withBatch(geometry, ctx.batch());
    int rows = ctx.batch() * filters, cols = g.outputPixels();
    Tensor z = Dense.preActivation(ctx, activation, outputShape());
    return new BufferedStep(ctx.output(outputShape()), ctx.outputGrad(outputShape())) {
      // x is (n, c, h, w), weight is (f, c, kh, kw), y is (n, f, outH, outW)
      @Override
      public void forward(boolean training) {
        Tensor bv = bias == null ? null : bias.value();
        if (z != null) { // the activation's derivative needs z: keep it, then activate
          b.conv2dForward(g, x, weight.value(), bv, z);
          b.activationForward(activation, z, y);
        } else {
          b.conv2dForward(g, x, weight.value(), bv, activation, y);
        }
      }

      @Override
      public void backward() {
        Dense.applyActivationBackward(b, activation, z, y, dy, rows, cols);
        if (bias != null) {
          b.conv2dBackwardBias(g, dy, bias.grad(), 0f);
        }
        b.conv2dBackwardFilter(g, x, dy, weight.grad(), 0f);
        if (l2 != 0) {
          b.axpy(2 * l2, weight.value(), weight.grad());
        }
        if (dx != null) {
          b.conv2dBackwardData(g, weight.value(), dy, dx);
        }
      }
    };
  }
}
