package dev.marrow.cli;

import dev.marrow.engine.data.Dataset;
import java.io.IOException;
import java.nio.file.Path;

/** Image folders and image files for the CLI, through the models module's loader. */
final class ImageData {
  private ImageData() {}

  static Dataset loadFolder(Path dir, int height, int width, boolean grayscale) {
    throw new UserError("--data images: is being wired");
  }

  static float[] loadFile(Path file, int height, int width, boolean grayscale) throws IOException {
    throw new IOException("image files: being wired");
  }
}
