package dev.marrow.engine.data;

import java.util.EnumSet;
import java.util.Locale;
import java.util.Set;
import java.util.SplittableRandom;

/**
 * The classic image augmentations, on samples of shape (channels, height, width), each sample drawn
 * on its own:
 *
 * <ul>
 *   <li>{@code CROP}: torchvision's {@code RandomCrop(size, padding=p)} with p = max(1,
 *       round(H/8)): the image is zero-padded by p on every side and a window of the original size
 *       cut at a random offset, i.e. moved by up to ±p pixels with zeros shifted in;
 *   <li>{@code FLIP}: mirrored left-right with probability ½ ({@code RandomHorizontalFlip}); not
 *       for digits, whose mirror images are other shapes;
 *   <li>{@code SHIFT}: Keras' {@code RandomTranslation(0.1, 0.1, fill_mode="nearest")}: moved by up
 *       to a tenth of the height and width, at least one pixel, the border pixels repeated.
 * </ul>
 */
public final class ImageAugmentation implements Augmentation {
  /** The transforms. */
  public enum Kind {
    CROP,
    FLIP,
    SHIFT
  }

  private final Set<Kind> kinds;
  private float[] scratch = new float[0];

  public ImageAugmentation(Set<Kind> kinds) {
    this.kinds = kinds.isEmpty() ? EnumSet.noneOf(Kind.class) : EnumSet.copyOf(kinds);
  }

  /** From a comma-separated list such as {@code crop,flip,shift}. */
  public static ImageAugmentation parse(String list) {
    Set<Kind> kinds = EnumSet.noneOf(Kind.class);
    for (String part : list.split(",")) {
      String name = part.trim().toUpperCase(Locale.ROOT);
      try {
        kinds.add(Kind.valueOf(name));
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException(
            "unknown augmentation '" + part.trim() + "'; expected crop, flip or shift");
      }
    }
    return new ImageAugmentation(kinds);
  }

  public Set<Kind> kinds() {
    return EnumSet.copyOf(kinds);
  }

  @Override
  public void apply(Batch batch, SplittableRandom random) {
    var shape = batch.sampleShape();
    if (shape.rank() != 3) {
      throw new IllegalArgumentException(
          "image augmentation needs samples of shape (channels, height, width), got " + shape);
    }
    int c = shape.dim(0), h = shape.dim(1), w = shape.dim(2), n = c * h * w;
    if (scratch.length < n) {
      scratch = new float[n]; // once per sample shape
    }
    int pad = Math.max(1, Math.round(h / 8f));
    int shiftY = Math.max(1, Math.round(h * 0.1f)), shiftX = Math.max(1, Math.round(w * 0.1f));
    float[] x = batch.features();
    for (int r = 0; r < batch.rows(); r++) {
      int offset = r * n;
      if (kinds.contains(Kind.FLIP) && random.nextBoolean()) {
        flip(x, offset, c, h, w);
      }
      if (kinds.contains(Kind.CROP)) {
        move(
            x,
            offset,
            c,
            h,
            w,
            random.nextInt(-pad, pad + 1),
            random.nextInt(-pad, pad + 1),
            false);
      }
      if (kinds.contains(Kind.SHIFT)) {
        move(
            x,
            offset,
            c,
            h,
            w,
            random.nextInt(-shiftY, shiftY + 1),
            random.nextInt(-shiftX, shiftX + 1),
            true);
      }
    }
  }

  private static void flip(float[] x, int offset, int c, int h, int w) {
    for (int row = 0; row < c * h; row++) {
      int base = offset + row * w;
      for (int i = 0, j = w - 1; i < j; i++, j--) {
        float t = x[base + i];
        x[base + i] = x[base + j];
        x[base + j] = t;
      }
    }
  }

  // Output pixel (y, x) takes input (y - dy, x - dx); outside the image: 0, or the nearest edge.
  private void move(float[] x, int offset, int c, int h, int w, int dy, int dx, boolean nearest) {
    if (dy == 0 && dx == 0) {
      return;
    }
    System.arraycopy(x, offset, scratch, 0, c * h * w);
    for (int ch = 0; ch < c; ch++) {
      for (int y = 0; y < h; y++) {
        int sy = y - dy;
        boolean rowInside = sy >= 0 && sy < h;
        sy = Math.max(0, Math.min(h - 1, sy));
        for (int xx = 0; xx < w; xx++) {
          int sx = xx - dx;
          boolean inside = rowInside && sx >= 0 && sx < w;
          sx = Math.max(0, Math.min(w - 1, sx));
          x[offset + (ch * h + y) * w + xx] =
              inside || nearest ? scratch[(ch * h + sy) * w + sx] : 0f;
        }
      }
    }
  }
}
