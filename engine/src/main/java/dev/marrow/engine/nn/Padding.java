package dev.marrow.engine.nn;

import java.util.List;
import java.util.Locale;

/**
 * Spatial padding of a convolution or pooling window, as Keras and PyTorch spell it: {@code valid}
 * (none), {@code same} (TensorFlow's rule: output = ceil(input / stride), any odd pixel of padding
 * at the bottom/right), or explicit symmetric amounts (PyTorch's {@code padding=(h, w)}).
 */
public record Padding(Kind kind, int height, int width) {

  public enum Kind {
    VALID,
    SAME,
    EXPLICIT
  }

  public static final Padding VALID = new Padding(Kind.VALID, 0, 0);
  public static final Padding SAME = new Padding(Kind.SAME, 0, 0);

  public Padding {
    if (height < 0 || width < 0) {
      throw new IllegalArgumentException("padding must be >= 0, got " + height + "×" + width);
    }
  }

  public static Padding explicit(int height, int width) {
    return new Padding(Kind.EXPLICIT, height, width);
  }

  public static Padding parse(String s) {
    return switch (s.toLowerCase(Locale.ROOT)) {
      case "valid" -> VALID;
      case "same" -> SAME;
      default ->
          throw new IllegalArgumentException(
              "padding must be 'valid', 'same' or explicit amounts, got '" + s + "'");
    };
  }

  /**
   * Resolves one axis (0 = height, 1 = width): returns {padding before, output size}. Fails with
   * the layer's name when the window does not fit.
   */
  int[] resolve(int axis, int in, int k, int stride, int dilation, String layer) {
    int span = dilation * (k - 1) + 1;
    int before, out;
    switch (kind) {
      case VALID -> {
        before = 0;
        out = in >= span ? (in - span) / stride + 1 : 0;
      }
      case SAME -> {
        out = (in + stride - 1) / stride;
        before = Math.max((out - 1) * stride + span - in, 0) / 2;
      }
      default -> {
        before = axis == 0 ? height : width;
        out = Math.floorDiv(in + 2 * before - span, stride) + 1;
      }
    }
    if (out < 1) {
      throw new IllegalArgumentException(
          layer
              + ": a window of "
              + k
              + " (dilation "
              + dilation
              + ") does not fit an input of "
              + in
              + " with "
              + this
              + " padding");
    }
    return new int[] {before, out};
  }

  /** "valid", "same", or [height, width] for explicit padding, as model.json stores it. */
  public Object toConfig() {
    return kind == Kind.EXPLICIT ? List.of(height, width) : toString();
  }

  /** The inverse of {@link #toConfig}. */
  public static Padding fromConfig(Object config) {
    if (config instanceof List<?> l
        && l.size() == 2
        && l.get(0) instanceof Number h
        && l.get(1) instanceof Number w) {
      return explicit(h.intValue(), w.intValue());
    }
    if (config instanceof String s) {
      return parse(s);
    }
    throw new IllegalArgumentException("padding must be 'valid', 'same' or [h, w], got " + config);
  }

  @Override
  public String toString() {
    return kind == Kind.EXPLICIT
        ? "(" + height + ", " + width + ")"
        : kind.name().toLowerCase(Locale.ROOT);
  }
}
