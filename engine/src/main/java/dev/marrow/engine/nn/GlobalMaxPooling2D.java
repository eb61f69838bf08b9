package dev.marrow.engine.nn;

import dev.marrow.engine.backend.Backend;
import dev.marrow.engine.backend.ConvGeometry;
import dev.marrow.engine.backend.PoolMode;
import dev.marrow.engine.tensor.Shape;
import dev.marrow.engine.tensor.Tensor;

/**
 * The maximum of each channel over all pixels: (c, h, w) → (c,). Max pooling with one window as
 * large as the image; the gradient goes to the first maximum in row-major order, as in PyTorch's
 * {@code F.adaptive_max_pool2d(x, 1)}.
 */
public final class GlobalMaxPooling2D extends Layer {

  /** No arguments: the window is always the whole image. */
  public GlobalMaxPooling2D() {}

  @Override
  public String typeName() {
    return "globalmaxpool";
  }

  @Override
  public Shape computeOutputShape(Shape input) {
    SpatialLayer.requireImage(input, "GlobalMaxPooling2D");
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
    return new BufferedStep(
        ctx.allocateBatch(outputShape()), ctx.allocateBatchGrad(outputShape())) {
      @Override
      public void forward(boolean training) {
        b.poolForward(PoolMode.MAX, g, x, y);
      }

      @Override
      public void backward() {
        if (dx != null) {
          b.poolBackward(PoolMode.MAX, g, x, y, dy, dx);
        }
      }
    };
  }
}
