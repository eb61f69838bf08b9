package dev.marrow.engine.nn;

import dev.marrow.engine.backend.PoolMode;

/** Averages each channel over all pixels: (c, h, w) → (c,). */
public final class GlobalAveragePooling2D extends GlobalPooling2D {

  /** No arguments: the window is always the whole image. */
  public GlobalAveragePooling2D() {
    super(PoolMode.AVERAGE_INCLUDE_PADDING);
  }

  @Override
  public String typeName() {
    return "globalavgpool";
  }
}
