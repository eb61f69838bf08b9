package dev.marrow.engine.data;

import dev.marrow.engine.tensor.Shape;
import java.util.List;
import java.util.Objects;

/**
 * What a data set's targets are: class indices in [0, classes) (with optional class names), or
 * float values of a fixed shape per sample (regression, multi-label 0/1 vectors, soft labels).
 */
public record Targets(int classes, Shape valueShape, List<String> classNames) {
  public Targets {
    Objects.requireNonNull(classNames, "classNames");
    classNames = List.copyOf(classNames);
    if ((classes > 0) == (valueShape != null)) {
      throw new IllegalArgumentException("targets are either classes or values of a shape");
    }
    if (!classNames.isEmpty() && classNames.size() != classes) {
      throw new IllegalArgumentException(
          classNames.size() + " class names for " + classes + " classes");
    }
  }

  /** Class indices in [0, classes), unnamed. */
  public static Targets classes(int classes) {
    return classes(classes, List.of());
  }

  /** Class indices in [0, classes) named by {@code names} (empty: unnamed). */
  public static Targets classes(int classes, List<String> names) {
    if (classes < 1) {
      throw new IllegalArgumentException("need at least one class, got " + classes);
    }
    return new Targets(classes, null, names);
  }

  /** Float targets of this shape per sample, e.g. (1) for one regression target. */
  public static Targets values(Shape shape) {
    return new Targets(0, Objects.requireNonNull(shape, "shape"), List.of());
  }

  /**
   * Refuses labels outside [0, classes), naming the first one and its sample; {@code where}
   * prefixes the message ("" or "output 2: ").
   */
  void checkLabels(int[] labels, int count, String where) {
    for (int i = 0; i < count; i++) {
      if (labels[i] < 0 || labels[i] >= classes) {
        throw new IllegalArgumentException(
            where + "label " + labels[i] + " of sample " + i + " is outside [0, " + classes + ")");
      }
    }
  }

  public boolean isClasses() {
    return classes > 0;
  }

  /** Floats per sample for value targets; 1 for class labels. */
  public int valueSize() {
    return isClasses() ? 1 : valueShape.size();
  }

  @Override
  public String toString() {
    return isClasses() ? classes + " classes" : "values of shape " + valueShape;
  }
}
