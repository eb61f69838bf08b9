package dev.marrow.engine.io;

import dev.marrow.engine.backend.Activation;
import dev.marrow.engine.backend.PoolMode;
import dev.marrow.engine.init.Initializer;
import dev.marrow.engine.nn.ActivationLayer;
import dev.marrow.engine.nn.BatchNormalization;
import dev.marrow.engine.nn.Conv2D;
import dev.marrow.engine.nn.Dense;
import dev.marrow.engine.nn.Dropout;
import dev.marrow.engine.nn.Flatten;
import dev.marrow.engine.nn.GlobalAveragePooling2D;
import dev.marrow.engine.nn.GlobalMaxPooling2D;
import dev.marrow.engine.nn.Layer;
import dev.marrow.engine.nn.Padding;
import dev.marrow.engine.nn.Pooling2D;
import dev.marrow.engine.nn.Reshape;
import dev.marrow.engine.nn.Sequential;
import dev.marrow.engine.nn.ZeroPadding2D;
import dev.marrow.engine.tensor.Shape;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * model.json: a model's architecture as data ({@code {"format": "marrow.sequential", "version": 1,
 * "input_shape": [1, 28, 28], "layers": [{"type": "dense", "name": "dense1", "config": {...}}]}}),
 * and back. Every field is checked on the way in; an error names the layer and the field.
 */
public final class ModelFormat {
  public static final String FORMAT = "marrow.sequential";
  public static final int VERSION = 1;
  private static final int MAX_LAYERS = 10_000;

  private ModelFormat() {}

  public static Map<String, Object> toConfig(Sequential model) {
    Map<String, Object> root = new LinkedHashMap<>();
    root.put("format", FORMAT);
    root.put("version", VERSION);
    List<Object> input = new ArrayList<>();
    for (int d : model.inputShape().dims()) {
      input.add(d);
    }
    root.put("input_shape", input);
    List<Object> layers = new ArrayList<>();
    for (Layer l : model.layers()) {
      Map<String, Object> entry = new LinkedHashMap<>();
      entry.put("type", l.typeName());
      entry.put("name", l.name());
      entry.put("config", l.config());
      layers.add(entry);
    }
    root.put("layers", layers);
    if (!model.classNames().isEmpty()) {
      root.put("class_names", new ArrayList<Object>(model.classNames()));
    }
    return root;
  }

  /** Rebuilds an unbuilt model from {@link #toConfig}'s output; {@code source} names the file. */
  public static Sequential fromConfig(Object json, String source) {
    Map<?, ?> root = object(json, source + ": the top level");
    if (!FORMAT.equals(root.get("format"))) {
      throw new IllegalArgumentException(
          source + ": \"format\" is " + root.get("format") + "; expected \"" + FORMAT + "\"");
    }
    if (root.get("version") instanceof Number v && v.longValue() > VERSION) {
      throw new IllegalArgumentException(
          source
              + ": written by a newer Marrow (model format"
              + " version "
              + v
              + "); this Marrow reads versions up to "
              + VERSION
              + ": upgrade Marrow"
              + " to load it");
    }
    long version = integer(root, "version", source, 1, VERSION);
    List<?> input = list(root.get("input_shape"), source + ": \"input_shape\"");
    if (input.isEmpty() || input.size() > 4) {
      throw new IllegalArgumentException(source + ": \"input_shape\" must have 1 to 4 dimensions");
    }
    int[] dims = new int[input.size()];
    for (int i = 0; i < dims.length; i++) {
      dims[i] = intIn(input.get(i), 1, 1 << 20, source + ": input_shape[" + i + "]");
    }
    Sequential model = new Sequential(Shape.of(dims));
    List<?> layers = list(root.get("layers"), source + ": \"layers\"");
    if (layers.isEmpty() || layers.size() > MAX_LAYERS) {
      throw new IllegalArgumentException(
          source + ": \"layers\" must hold 1 to " + MAX_LAYERS + " layers, got " + layers.size());
    }
    for (int i = 0; i < layers.size(); i++) {
      String where = source + ": layers[" + i + "]";
      Map<?, ?> entry = object(layers.get(i), where);
      Object type = entry.get("type");
      Map<?, ?> config = object(entry.get("config"), where + ".config");
      try {
        model.add(layer(String.valueOf(type), config, where + " (" + type + ")"));
      } catch (IllegalArgumentException | ClassCastException e) {
        throw new IllegalArgumentException(where + " (" + type + "): " + e.getMessage(), e);
      }
    }
    if (root.containsKey("class_names")) {
      List<?> names = list(root.get("class_names"), source + ": \"class_names\"");
      List<String> strings = new ArrayList<>();
      for (Object n : names) {
        if (!(n instanceof String name)) {
          throw new IllegalArgumentException(
              source + ": \"class_names\" must hold strings, got " + n);
        }
        strings.add(name);
      }
      model.setClassNames(strings);
    }
    assert version == VERSION;
    return model;
  }

  private static Layer layer(String type, Map<?, ?> c, String where) {
    return switch (type) {
      case "dense" ->
          new Dense(
                  intIn(c.get("units"), 1, 1 << 24, where + ".units"),
                  activation(c),
                  bool(c, "use_bias", true),
                  Initializer.zeros(),
                  Initializer.zeros())
              .l2(number(c, "l2", 0));
      case "conv" -> {
        int[] k = pair(c.get("kernel_size"), where + ".kernel_size");
        int[] s = pair(c.get("strides"), where + ".strides");
        int[] d = pair(c.get("dilation_rate"), where + ".dilation_rate");
        yield Conv2D.builder(intIn(c.get("filters"), 1, 1 << 16, where + ".filters"), k[0])
            .kernel(k[0], k[1])
            .strides(s[0], s[1])
            .dilation(d[0], d[1])
            .padding(Padding.fromConfig(c.get("padding")))
            .useBias(bool(c, "use_bias", true))
            .activation(activation(c))
            .l2(number(c, "l2", 0))
            .build();
      }
      case "maxpool", "avgpool" -> {
        int[] p = pair(c.get("pool_size"), where + ".pool_size");
        int[] s = pair(c.get("strides"), where + ".strides");
        PoolMode mode =
            type.equals("maxpool")
                ? PoolMode.MAX
                : bool(c, "count_include_pad", false)
                    ? PoolMode.AVERAGE_INCLUDE_PADDING
                    : PoolMode.AVERAGE_EXCLUDE_PADDING;
        yield Pooling2D.of(mode, p[0], p[1], s[0], s[1], Padding.fromConfig(c.get("padding")));
      }
      case "globalavgpool" -> new GlobalAveragePooling2D();
      case "globalmaxpool" -> new GlobalMaxPooling2D();
      case "zeropad" -> {
        int[] p = zeroPadding(c.get("padding"), where + ".padding");
        yield new ZeroPadding2D(p[0], p[1], p[2], p[3]);
      }
      case "bn" -> new BatchNormalization(number(c, "momentum", 0.99), number(c, "epsilon", 1e-3));
      case "dropout" -> new Dropout(number(c, "rate", 0));
      case "flatten" -> new Flatten();
      case "reshape" -> {
        List<?> t = list(c.get("target_shape"), where + ".target_shape");
        int[] dims = new int[t.size()];
        for (int i = 0; i < dims.length; i++) {
          dims[i] = intIn(t.get(i), 1, 1 << 24, where + ".target_shape[" + i + "]");
        }
        yield new Reshape(dims);
      }
      case "activation" -> new ActivationLayer(activation(c));
      default -> throw new IllegalArgumentException("unknown layer type \"" + type + "\"");
    };
  }

  private static Activation activation(Map<?, ?> c) {
    Object a = c.get("activation");
    return Activation.fromName(a == null ? "linear" : String.valueOf(a));
  }

  private static Map<?, ?> object(Object o, String where) {
    if (!(o instanceof Map<?, ?> m)) {
      throw new IllegalArgumentException(where + " must be a JSON object");
    }
    return m;
  }

  private static List<?> list(Object o, String where) {
    if (!(o instanceof List<?> l)) {
      throw new IllegalArgumentException(where + " must be a JSON array");
    }
    return l;
  }

  private static int intIn(Object o, int min, int max, String where) {
    if (!(o instanceof Long v) || v < min || v > max) {
      throw new IllegalArgumentException(
          where + " is " + o + "; expected an integer in [" + min + ", " + max + "]");
    }
    return (int) (long) v;
  }

  private static long integer(Map<?, ?> m, String key, String source, long min, long max) {
    return intIn(m.get(key), (int) min, (int) max, source + ": \"" + key + "\"");
  }

  private static int[] pair(Object o, String where) {
    List<?> l = list(o, where);
    if (l.size() != 2) {
      throw new IllegalArgumentException(where + " must have 2 entries, got " + l.size());
    }
    return new int[] {
      intIn(l.get(0), 1, 1 << 12, where + "[0]"), intIn(l.get(1), 1, 1 << 12, where + "[1]")
    };
  }

  /**
   * ZeroPadding2D's padding in any of Keras' forms: {@code p}, {@code [rows, columns]} or {@code
   * [[top, bottom], [left, right]]} (the form written); returns top, bottom, left, right.
   */
  private static int[] zeroPadding(Object o, String where) {
    int max = 1 << 12;
    if (o instanceof Long) {
      int p = intIn(o, 0, max, where);
      return new int[] {p, p, p, p};
    }
    List<?> l = list(o, where);
    if (l.size() != 2) {
      throw new IllegalArgumentException(where + " must have 2 entries, got " + l.size());
    }
    int[] out = new int[4];
    for (int axis = 0; axis < 2; axis++) {
      String at = where + "[" + axis + "]";
      if (l.get(axis) instanceof List<?> sides) {
        if (sides.size() != 2) {
          throw new IllegalArgumentException(at + " must have 2 entries, got " + sides.size());
        }
        out[2 * axis] = intIn(sides.get(0), 0, max, at + "[0]");
        out[2 * axis + 1] = intIn(sides.get(1), 0, max, at + "[1]");
      } else {
        out[2 * axis] = out[2 * axis + 1] = intIn(l.get(axis), 0, max, at);
      }
    }
    return out;
  }

  private static double number(Map<?, ?> c, String key, double fallback) {
    Object o = c.get(key);
    if (o == null) {
      return fallback;
    }
    if (!(o instanceof Number n) || !Double.isFinite(n.doubleValue())) {
      throw new IllegalArgumentException("\"" + key + "\" is " + o + "; expected a number");
    }
    return n.doubleValue();
  }

  private static boolean bool(Map<?, ?> c, String key, boolean fallback) {
    Object o = c.get(key);
    if (o == null) {
      return fallback;
    }
    if (!(o instanceof Boolean b)) {
      throw new IllegalArgumentException("\"" + key + "\" is " + o + "; expected true or false");
    }
    return b;
  }
}
