package dev.marrow.engine.backend;

/** Pooling modes, as cuDNN names them. */
public enum PoolMode {
  MAX,
  /** Average over the window's positions inside the input (padding excluded), as Keras does. */
  AVERAGE_EXCLUDE_PADDING,
  /** Average over the whole window, padding counted as zeros (PyTorch's default). */
  AVERAGE_INCLUDE_PADDING
}
