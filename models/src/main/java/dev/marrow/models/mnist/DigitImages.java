package dev.marrow.models.mnist;

import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import javax.imageio.ImageIO;

/**
 * Turns a picture of a handwritten digit into what an MNIST model expects, the way the MNIST images
 * were made: grayscale, the digit light on a dark background, its bounding box scaled to fit 20 ×
 * 20 (keeping the aspect ratio), placed in a 28 × 28 field with its centre of mass at the centre,
 * values in [0, 1].
 */
public final class DigitImages {
  private static final int FIELD = 28;
  private static final int BOX = 20;

  private DigitImages() {}

  /** Reads a PNG, JPEG, GIF or BMP file and preprocesses it; names the file on failure. */
  public static float[] load(Path file) throws IOException {
    if (!Files.isRegularFile(file)) {
      throw new IOException(file + ": no such file");
    }
    BufferedImage img;
    try {
      img = ImageIO.read(file.toFile());
    } catch (IOException | RuntimeException e) {
      throw new IOException(file + ": not a readable image (" + e.getMessage() + ")", e);
    }
    if (img == null) {
      throw new IOException(file + ": not an image format Java can read (PNG, JPEG, GIF, BMP)");
    }
    if ((long) img.getWidth() * img.getHeight() > 64L * 1024 * 1024) {
      throw new IOException(
          file
              + ": "
              + img.getWidth()
              + "×"
              + img.getHeight()
              + " pixels is larger than a digit photo needs (limit 64 megapixels)");
    }
    return preprocess(img);
  }

  /** The 28 × 28 MNIST-style version of any image, row-major, in [0, 1]. */
  public static float[] preprocess(BufferedImage img) {
    int w = img.getWidth(), h = img.getHeight();
    float[] gray = new float[w * h];
    for (int y = 0; y < h; y++) {
      for (int x = 0; x < w; x++) {
        int argb = img.getRGB(x, y);
        float a = ((argb >>> 24) & 0xff) / 255f;
        float lum =
            (0.299f * ((argb >> 16) & 0xff)
                    + 0.587f * ((argb >> 8) & 0xff)
                    + 0.114f * (argb & 0xff))
                / 255f;
        gray[y * w + x] = a * lum + (1 - a); // transparent pixels count as white paper
      }
    }
    // Ink is whichever side the border is not: dark ink on light paper gets inverted.
    double border = 0;
    int count = 0;
    for (int x = 0; x < w; x++) {
      border += gray[x] + gray[(h - 1) * w + x];
      count += 2;
    }
    for (int y = 0; y < h; y++) {
      border += gray[y * w] + gray[y * w + w - 1];
      count += 2;
    }
    boolean invert = border / count > 0.5;
    float max = 0;
    for (int i = 0; i < gray.length; i++) {
      gray[i] = invert ? 1 - gray[i] : gray[i];
      max = Math.max(max, gray[i]);
    }
    float[] field = new float[FIELD * FIELD];
    if (max <= 0.05f) {
      return field; // a blank picture stays blank
    }
    // Bounding box of the ink (pixels above a fifth of the brightest).
    int x0 = w, y0 = h, x1 = -1, y1 = -1;
    for (int y = 0; y < h; y++) {
      for (int x = 0; x < w; x++) {
        if (gray[y * w + x] > 0.2f * max) {
          x0 = Math.min(x0, x);
          x1 = Math.max(x1, x);
          y0 = Math.min(y0, y);
          y1 = Math.max(y1, y);
        }
      }
    }
    int bw = x1 - x0 + 1, bh = y1 - y0 + 1;
    double scale = (double) BOX / Math.max(bw, bh);
    int sw = Math.max(1, (int) Math.round(bw * scale)),
        sh = Math.max(1, (int) Math.round(bh * scale));
    BufferedImage crop = new BufferedImage(bw, bh, BufferedImage.TYPE_BYTE_GRAY);
    for (int y = 0; y < bh; y++) {
      for (int x = 0; x < bw; x++) {
        int v = Math.round(255 * gray[(y0 + y) * w + x0 + x] / max);
        crop.getRaster().setSample(x, y, 0, v);
      }
    }
    BufferedImage small = new BufferedImage(sw, sh, BufferedImage.TYPE_BYTE_GRAY);
    Graphics2D g = small.createGraphics();
    g.setRenderingHint(
        RenderingHints.KEY_INTERPOLATION, RenderingHints.VALUE_INTERPOLATION_BILINEAR);
    g.setRenderingHint(RenderingHints.KEY_RENDERING, RenderingHints.VALUE_RENDER_QUALITY);
    g.drawImage(crop.getScaledInstance(sw, sh, java.awt.Image.SCALE_AREA_AVERAGING), 0, 0, null);
    g.dispose();
    // Centre of mass of the scaled digit goes to the field's centre.
    double mass = 0, cx = 0, cy = 0;
    for (int y = 0; y < sh; y++) {
      for (int x = 0; x < sw; x++) {
        double v = small.getRaster().getSample(x, y, 0) / 255.0;
        mass += v;
        cx += v * x;
        cy += v * y;
      }
    }
    int offX = (int) Math.round(FIELD / 2.0 - (mass > 0 ? cx / mass : sw / 2.0) - 0.5);
    int offY = (int) Math.round(FIELD / 2.0 - (mass > 0 ? cy / mass : sh / 2.0) - 0.5);
    for (int y = 0; y < sh; y++) {
      for (int x = 0; x < sw; x++) {
        int fx = x + offX, fy = y + offY;
        if (fx >= 0 && fx < FIELD && fy >= 0 && fy < FIELD) {
          field[fy * FIELD + fx] = small.getRaster().getSample(x, y, 0) / 255f;
        }
      }
    }
    return field;
  }
}
