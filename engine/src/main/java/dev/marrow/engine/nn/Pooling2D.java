package dev.marrow.engine.nn;

import dev.marrow.engine.backend.Backend;
import dev.marrow.engine.backend.ConvGeometry;
import dev.marrow.engine.backend.PoolMode;
import dev.marrow.engine.tensor.Shape;
import dev.marrow.engine.tensor.Tensor;
import java.util.List;
import java.util.Map;

/**
 * Max or average pooling over (channels, height, width) inputs: Keras' MaxPooling2D and
 * AveragePooling2D. Strides default to the pool size; windows may overlap (stride &lt; pool).
 */
public class Pooling2D extends Layer {
  private final PoolMode mode;
  private final int poolH;
  private final int poolW;
  private final int strideH;
  private final int strideW;
  private final Padding padding;
  private ConvGeometry geometry;

  protected Pooling2D(
      PoolMode mode, int poolH, int poolW, int strideH, int strideW, Padding padding) {
    if (poolH < 1 || poolW < 1 || strideH < 1 || strideW < 1) {
      throw new IllegalArgumentException(
          "pool size and strides must be positive, got pool "
              + poolH
              + "×"
              + poolW
              + " strides "
              + strideH
              + "×"
              + strideW);
    }
    this.mode = mode;
    this.poolH = poolH;
    this.poolW = poolW;
    this.strideH = strideH;
    this.strideW = strideW;
    this.padding = padding;
  }

  /** Any pooling layer, as model.json describes it. */
  public static Pooling2D of(
      PoolMode mode, int poolH, int poolW, int strideH, int strideW, Padding padding) {
    return new Pooling2D(mode, poolH, poolW, strideH, strideW, padding);
  }

  @Override
  public String className() {
    return mode == PoolMode.MAX ? "MaxPooling2D" : "AveragePooling2D";
  }

  public PoolMode mode() {
    return mode;
  }

  /** Keras' MaxPooling2D(pool_size) with strides = pool size and valid padding. */
  public static Pooling2D max(int pool) {
    return new Pooling2D(PoolMode.MAX, pool, pool, pool, pool, Padding.VALID);
  }

  public static Pooling2D max(int pool, int stride, Padding padding) {
    return new Pooling2D(PoolMode.MAX, pool, pool, stride, stride, padding);
  }

  /** Keras' AveragePooling2D: padded positions are not counted in the average. */
  public static Pooling2D average(int pool) {
    return average(pool, pool, Padding.VALID);
  }

  public static Pooling2D average(int pool, int stride, Padding padding) {
    return new Pooling2D(PoolMode.AVERAGE_EXCLUDE_PADDING, pool, pool, stride, stride, padding);
  }

  /** PyTorch's AvgPool2d default: padded zeros count in the average. */
  public static Pooling2D averageIncludingPadding(int pool, int stride, Padding padding) {
    return new Pooling2D(PoolMode.AVERAGE_INCLUDE_PADDING, pool, pool, stride, stride, padding);
  }

  @Override
  public String typeName() {
    return mode == PoolMode.MAX ? "maxpool" : "avgpool";
  }

  @Override
  public Shape computeOutputShape(Shape input) {
    ConvGeometry g =
        SpatialLayer.geometry(
            input, input.dim(0), poolH, poolW, strideH, strideW, padding, 1, 1, typeName());
    return Shape.of(input.dim(0), g.outH(), g.outW());
  }

  @Override
  protected void createParameters(Shape input, java.util.random.RandomGenerator random) {
    geometry =
        SpatialLayer.geometry(
            input, input.dim(0), poolH, poolW, strideH, strideW, padding, 1, 1, name());
  }

  @Override
  public Map<String, Object> config() {
    Map<String, Object> c = super.config();
    c.put("pool_size", List.of(poolH, poolW));
    c.put("strides", List.of(strideH, strideW));
    c.put("padding", padding.toConfig());
    if (mode == PoolMode.AVERAGE_INCLUDE_PADDING) {
      c.put("count_include_pad", true);
    }
    return c;
  }

  @Override
  public LayerStep compile(CompileContext ctx, Tensor x, Tensor dx) {
    Backend b = ctx.backend();
    ConvGeometry g = SpatialLayer.withBatch(geometry, ctx.batch());
    return new BufferedStep(ctx.output(outputShape()), ctx.outputGrad(outputShape())) {
      @Override
      public void forward(boolean training) {
        b.poolForward(mode, g, x, y);
      }

      @Override
      public void backward() {
        if (dx != null) {
          b.poolBackward(mode, g, x, y, dy, dx);
        }
      }
    };
  }
}
