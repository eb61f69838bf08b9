package dev.marrow.models.data;

import java.io.IOException;

/**
 * A data file or folder that cannot be used as it is: its message names the file (and line, column
 * or entry) and what was expected, for the user to fix. {@link ImageDataException} is the image
 * folders' kind.
 */
public class DataFileException extends IOException {
  public DataFileException(String message) {
    super(message);
  }

  public DataFileException(String message, Throwable cause) {
    super(message, cause);
  }
}
