package dev.marrow.models.mnist;

import java.io.IOException;

/**
 * An IDX file that is not what it claims to be: names the file, the field and what was expected.
 */
public final class IdxFormatException extends IOException {
  public IdxFormatException(String message) {
    super(message);
  }
}
