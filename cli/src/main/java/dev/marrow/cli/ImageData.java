package dev.marrow.cli;

import dev.marrow.engine.data.Dataset;
import dev.marrow.models.data.ImageFolder;
import dev.marrow.models.data.ImageLoader;
import java.io.IOException;
import java.nio.file.Path;

/** Image folders and image files for the CLI, through the models module's loader. */
final class ImageData {
  private ImageData() {}

  /** One sub-folder per class; bad images and empty folders are the user's to fix (exit 2). */
  static Dataset loadFolder(Path dir, int height, int width, boolean grayscale) {
    try {
      return ImageFolder.load(dir, new ImageLoader(height, width, grayscale));
    } catch (IOException e) {
      throw new UserError("--data images:" + dir + ": " + e.getMessage(), e);
    }
  }

  /** One image preprocessed as a model trained on a folder expects it. */
  static float[] loadFile(Path file, int height, int width, boolean grayscale) throws IOException {
    return new ImageLoader(height, width, grayscale).read(file);
  }
}
