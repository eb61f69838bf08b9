package dev.marrow.models.data;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import javax.imageio.ImageIO;

/** Writes the small test images the data-loader tests read. */
final class ImageFiles {
  private ImageFiles() {}

  /** An RGB image whose pixel (x, y) is {@code rgb(x, y)}. */
  static BufferedImage rgb(int w, int h, java.util.function.IntBinaryOperator rgb) {
    BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
    for (int y = 0; y < h; y++) {
      for (int x = 0; x < w; x++) {
        img.setRGB(x, y, rgb.applyAsInt(x, y));
      }
    }
    return img;
  }

  /** An 8-bit gray image whose pixel (x, y) is {@code value(x, y)} in 0..255. */
  static BufferedImage gray(int w, int h, java.util.function.IntBinaryOperator value) {
    BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_BYTE_GRAY);
    for (int y = 0; y < h; y++) {
      for (int x = 0; x < w; x++) {
        img.getRaster().setSample(x, y, 0, value.applyAsInt(x, y));
      }
    }
    return img;
  }

  /** Writes {@code img} as "png" or "jpg" and returns the path. */
  static Path write(BufferedImage img, Path file) throws IOException {
    Files.createDirectories(file.getParent());
    String name = file.getFileName().toString();
    String format = name.substring(name.lastIndexOf('.') + 1);
    if (!ImageIO.write(img, format, file.toFile())) {
      throw new IOException("no ImageIO writer for " + format);
    }
    return file;
  }

  /** A copy of {@code file} cut to its first {@code length} bytes. */
  static Path truncated(Path file, int length, Path to) throws IOException {
    Files.write(to, Arrays.copyOf(Files.readAllBytes(file), length));
    return to;
  }
}
