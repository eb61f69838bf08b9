package dev.marrow.engine.nn;

import dev.marrow.engine.backend.Backend;
import dev.marrow.engine.backend.ConvGeometry;
import dev.marrow.engine.backend.PoolMode;
import dev.marrow.engine.tensor.Shape;
import dev.marrow.engine.tensor.Tensor;

/** Averages each channel over all pixels: (c, h, w) → (c,). Average pooling with one window. */
public final class GlobalAveragePooling2D extends Layer {

  /** No arguments: the window is always the whole image. */
  public GlobalAveragePooling2D() {}

  @Override
  public String typeName() {
    return "globalavgpool";
  }

  @Override
  public Shape computeOutputShape(Shape input) {
    SpatialLayer.requireImage(input, "GlobalAveragePooling2D");
    return Shape.of(input.dim(0));
  }

  @Override
  public LayerStep compile(CompileContext ctx, Tensor x, Tensor dx) {
    Backend b = ctx.backend();
    Shape in = inputShape();
    int h = in.dim(1), w = in.dim(2);
    ConvGeometry g =
        new ConvGeometry(ctx.batch(), in.dim(0), h, w, in.dim(0), h, w, h, w, 0, 0, 1, 1, 1, 1);
    return new BufferedStep(
        ctx.allocateBatch(outputShape()), ctx.allocateBatchGrad(outputShape())) {
      @Override
      public void forward(boolean training) {
        b.poolForward(PoolMode.AVERAGE_INCLUDE_PADDING, g, x, y);
      }

      @Override
      public void backward() {
        if (dx != null) {
          b.poolBackward(PoolMode.AVERAGE_INCLUDE_PADDING, g, x, y, dy, dx);
        }
      }
    };
  }
}
