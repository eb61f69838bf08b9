package dev.marrow.engine.nn;

import dev.marrow.engine.backend.PoolMode;

/**
 * The maximum of each channel over all pixels: (c, h, w) → (c,). The gradient goes to the first
 * maximum in row-major order, as in PyTorch's {@code F.adaptive_max_pool2d(x, 1)}.
 */
public final class GlobalMaxPooling2D extends GlobalPooling2D {

  /** No arguments: the window is always the whole image. */
  public GlobalMaxPooling2D() {
    super(PoolMode.MAX);
  }

  @Override
  public String typeName() {
    return "globalmaxpool";
  }
}
