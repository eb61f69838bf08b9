package dev.marrow.models.data;

/**
 * An image or image folder that is not what a loader expects: an empty class folder, a folder
 * without class sub-folders, a file that is not a PNG or JPEG image, a damaged or truncated one.
 * The message names the path and what was expected.
 */
public final class ImageDataException extends DataFileException {
  public ImageDataException(String message) {
    super(message);
  }

  public ImageDataException(String message, Throwable cause) {
    super(message, cause);
  }
}
