package dev.marrow;

/** The JVM lacks a flag Marrow needs; the message gives the exact flags for each launcher. */
public final class MissingJvmFlagException extends IllegalStateException {
  private static final long serialVersionUID = 1L;

  public MissingJvmFlagException(String message) {
    super(message);
  }
}
