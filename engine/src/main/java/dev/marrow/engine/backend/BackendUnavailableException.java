package dev.marrow.engine.backend;

/**
 * The device asked for cannot be opened: no CUDA libraries, no such GPU, or a strict {@code auto}
 * without CUDA. The message carries the library locator's diagnostic.
 */
public final class BackendUnavailableException extends IllegalStateException {
  private static final long serialVersionUID = 1L;

  public BackendUnavailableException(String message) {
    super(message);
  }
}
