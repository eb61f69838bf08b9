package dev.marrow.engine.nn;

import dev.marrow.engine.backend.Activation;
import java.util.List;
import java.util.Map;

/**
 * A layer's arguments as read from model.json, with typed accessors whose errors name the layer and
 * the field ({@code model.json: layers[3] (Conv2D).kernel_size is 0; expected an integer in [1,
 * 4096]}). What a registered from-config factory receives; a user's layer reads its own arguments
 * with it.
 */
public final class LayerConfig {
  private final Map<?, ?> values;
  private final String where;

  public LayerConfig(Map<?, ?> values, String where) {
    this.values = values;
    this.where = where;
  }

  /** Where this config came from, for messages. */
  public String where() {
    return where;
  }

  public boolean has(String key) {
    return values.containsKey(key);
  }

  /** The raw JSON value (Long, Double, String, Boolean, List, Map) or null. */
  public Object raw(String key) {
    return values.get(key);
  }

  /** A required integer in [min, max]. */
  public int integer(String key, int min, int max) {
    return intIn(values.get(key), min, max, where + "." + key);
  }

  /** An optional integer in [min, max]. */
  public int integer(String key, int min, int max, int fallback) {
    return values.get(key) == null ? fallback : integer(key, min, max);
  }

  /** A finite number, or {@code fallback} when absent. */
  public double number(String key, double fallback) {
    Object o = values.get(key);
    if (o == null) {
      return fallback;
    }
    if (!(o instanceof Number n) || !Double.isFinite(n.doubleValue())) {
      throw new IllegalArgumentException(where + "." + key + " is " + o + "; expected a number");
    }
    return n.doubleValue();
  }

  public boolean bool(String key, boolean fallback) {
    Object o = values.get(key);
    if (o == null) {
      return fallback;
    }
    if (!(o instanceof Boolean b)) {
      throw new IllegalArgumentException(
          where + "." + key + " is " + o + "; expected true or false");
    }
    return b;
  }

  public String string(String key, String fallback) {
    Object o = values.get(key);
    if (o == null) {
      return fallback;
    }
    if (!(o instanceof String s)) {
      throw new IllegalArgumentException(where + "." + key + " is " + o + "; expected a string");
    }
    return s;
  }

  /** Two integers in [1, 4096], as kernel sizes and strides are stored. */
  public int[] pair(String key) {
    List<?> l = list(key);
    if (l.size() != 2) {
      throw new IllegalArgumentException(
          where + "." + key + " must have 2 entries, got " + l.size());
    }
    return new int[] {
      intIn(l.get(0), 1, 1 << 12, where + "." + key + "[0]"),
      intIn(l.get(1), 1, 1 << 12, where + "." + key + "[1]")
    };
  }

  /** Integers in [min, max], any count from 1 to 8. */
  public int[] integers(String key, int min, int max) {
    List<?> l = list(key);
    if (l.isEmpty() || l.size() > 8) {
      throw new IllegalArgumentException(
          where + "." + key + " must have 1 to 8 entries, got " + l.size());
    }
    int[] out = new int[l.size()];
    for (int i = 0; i < out.length; i++) {
      out[i] = intIn(l.get(i), min, max, where + "." + key + "[" + i + "]");
    }
    return out;
  }

  /** The "activation" field by name ("relu", "linear" when absent). */
  public Activation activation() {
    return Activation.fromName(string("activation", "linear"));
  }

  public List<?> list(String key) {
    if (!(values.get(key) instanceof List<?> l)) {
      throw new IllegalArgumentException(where + "." + key + " must be a JSON array");
    }
    return l;
  }

  /**
   * {@code o} as an integer in [min, max], or an IllegalArgumentException naming {@code where}: the
   * one check of integers read from model.json, for the file format and layers alike.
   */
  public static int intIn(Object o, int min, int max, String where) {
    if (!(o instanceof Long v) || v < min || v > max) {
      throw new IllegalArgumentException(
          where + " is " + o + "; expected an integer in [" + min + ", " + max + "]");
    }
    return (int) (long) v;
  }
}
