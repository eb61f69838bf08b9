package dev.marrow.cli;

/** A mistake the user can fix (bad flag value, missing data): one clear message, exit code 2. */
public final class UserError extends RuntimeException {
  public UserError(String message) {
    super(message);
  }

  public UserError(String message, Throwable cause) {
    super(message, cause);
  }
}
