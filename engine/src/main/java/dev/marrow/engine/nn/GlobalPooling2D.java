package dev.marrow.engine.nn;

import dev.marrow.engine.backend.Backend;
import dev.marrow.engine.backend.ConvGeometry;
import dev.marrow.engine.backend.PoolMode;
import dev.marrow.engine.tensor.Shape;
import dev.marrow.engine.tensor.Tensor;

/**
 * Pools each channel over all its pixels, (c, h, w) → (c,): pooling with one window as large as the
 * image, through the backend's pooling kernels. The base of GlobalAveragePooling2D and
 * GlobalMaxPooling2D.
 */
public abstract sealed class GlobalPooling2D extends Layer
    permits GlobalAveragePooling2D, GlobalMaxPooling2D {
  private final PoolMode mode;

  GlobalPooling2D(PoolMode mode) {
    this.mode = mode;
  }

  @Override
  public Shape computeOutputShape(Shape input) {
    SpatialLayer.requireImage(input, className());
    return Shape.of(input.dim(0));
  }

  // x is (n, c, h, w), y is (n, c): an h × w window with strides h and w.
  @Override
  public LayerStep compile(CompileContext ctx, Tensor x, Tensor dx) {
    Backend b = ctx.backend();
    Shape in = inputShape();
    int h = in.dim(1), w = in.dim(2);
    ConvGeometry g =
        new ConvGeometry(ctx.batch(), in.dim(0), h, w, in.dim(0), h, w, h, w, 0, 0, 1, 1, 1, 1);
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
