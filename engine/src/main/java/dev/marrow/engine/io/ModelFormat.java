package dev.marrow.engine.io;

import dev.marrow.engine.nn.Graph;
import dev.marrow.engine.nn.Layer;
import dev.marrow.engine.nn.LayerConfig;
import dev.marrow.engine.nn.LayerRegistry;
import dev.marrow.engine.nn.Node;
import dev.marrow.engine.nn.Sequential;
import dev.marrow.engine.tensor.Shape;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * model.json: a model's architecture as data, and back. Every field is checked on the way in; an
 * error names the layer and the field.
 *
 * <pre>{@code
 * {"format": "marrow.graph", "version": 2,
 *  "inputs": [{"name": "input1", "shape": [1, 28, 28]}],
 *  "layers": [{"class_name": "Conv2D", "name": "conv1", "config": {...}, "inbound": ["input1"]},
 *             {"class_name": "Add", "name": "add1", "config": {}, "inbound": ["conv1", "input1"]},
 *             ...],
 *  "outputs": ["dense1"],
 *  "class_names": ["cat", "dog"]}
 * }</pre>
 *
 * Layers are made by the factories registered in {@link LayerRegistry} under their class names,
 * built-in or the user's own. Files of the first format ({@code "marrow.sequential"}, version 1: an
 * input shape and a list of layers) still load, as a {@link Sequential}. A graph that is one path
 * loads as a Sequential too.
 */
public final class ModelFormat {
  public static final String FORMAT = "marrow.graph";

  /** The version this code writes: 2, the graph; version 1 was the sequential list. */
  public static final int VERSION = 2;

  static final String SEQUENTIAL_FORMAT = "marrow.sequential";
  private static final int MAX_LAYERS = 10_000;

  private ModelFormat() {}

  public static Map<String, Object> toConfig(Graph model) {
    Map<String, Object> root = new LinkedHashMap<>();
    root.put("format", FORMAT);
    root.put("version", VERSION);
    Map<Node, String> names = new HashMap<>();
    List<Object> inputs = new ArrayList<>();
    for (int i = 0; i < model.inputs().size(); i++) {
      Node in = model.inputs().get(i);
      String name = model.inputs().size() == 1 ? "input1" : "input" + (i + 1);
      names.put(in, name);
      Map<String, Object> entry = new LinkedHashMap<>();
      entry.put("name", name);
      entry.put("shape", dims(in.shape()));
      inputs.add(entry);
    }
    root.put("inputs", inputs);
    List<Object> layers = new ArrayList<>();
    for (Node n : model.layerNodes()) {
      Layer l = n.layer();
      names.put(n, l.name());
      Map<String, Object> entry = new LinkedHashMap<>();
      entry.put("class_name", l.className());
      entry.put("name", l.name());
      entry.put("config", l.config());
      List<Object> inbound = new ArrayList<>();
      for (Node in : n.inbound()) {
        inbound.add(names.get(in));
      }
      entry.put("inbound", inbound);
      layers.add(entry);
    }
    root.put("layers", layers);
    List<Object> outputs = new ArrayList<>();
    for (Node out : model.outputs()) {
      outputs.add(names.get(out));
    }
    root.put("outputs", outputs);
    if (!model.classNames().isEmpty()) {
      root.put("class_names", new ArrayList<Object>(model.classNames()));
    }
    if (!model.dataDescription().isEmpty()) {
      Map<String, Object> data = new LinkedHashMap<>();
      model.dataDescription().forEach((k, v) -> data.put(k, new ArrayList<Object>(v)));
      root.put("data", data);
    }
    return root;
  }

  /** Rebuilds an unbuilt model from {@link #toConfig}'s output; {@code source} names the file. */
  public static Graph fromConfig(Object json, String source) {
    Map<?, ?> root = object(json, source + ": the top level");
    Object format = root.get("format");
    if (root.get("version") instanceof Number v && v.longValue() > VERSION) {
      throw new IllegalArgumentException(
          source
              + ": written by a newer Marrow (model format version "
              + v
              + "); this Marrow reads versions up to "
              + VERSION
              + ": upgrade Marrow to load it");
    }
    Graph model;
    if (SEQUENTIAL_FORMAT.equals(format)) {
      LayerConfig.intIn(root.get("version"), 1, 1, source + ": \"version\"");
      model = sequential(root, source);
    } else if (FORMAT.equals(format)) {
      LayerConfig.intIn(root.get("version"), VERSION, VERSION, source + ": \"version\"");
      model = graph(root, source);
    } else {
      throw new IllegalArgumentException(
          source
              + ": \"format\" is "
              + format
              + "; expected \""
              + FORMAT
              + "\" (or \""
              + SEQUENTIAL_FORMAT
              + "\")");
    }
    if (root.containsKey("class_names")) {
      model.setClassNames(strings(root.get("class_names"), source + ": \"class_names\""));
    }
    if (root.containsKey("data")) {
      Map<String, List<String>> data = new LinkedHashMap<>();
      for (var e : object(root.get("data"), source + ": \"data\"").entrySet()) {
        String key = String.valueOf(e.getKey());
        data.put(key, strings(e.getValue(), source + ": \"data\"." + key));
      }
      model.setDataDescription(data);
    }
    return model;
  }

  private static List<String> strings(Object json, String where) {
    List<String> strings = new ArrayList<>();
    for (Object n : list(json, where)) {
      if (!(n instanceof String name)) {
        throw new IllegalArgumentException(where + " must hold strings, got " + n);
      }
      strings.add(name);
    }
    return strings;
  }

  /** The first format: an input shape and the layers of a stack. */
  private static Sequential sequential(Map<?, ?> root, String source) {
    Sequential model = new Sequential(shape(root.get("input_shape"), source + ": \"input_shape\""));
    List<?> layers = layerList(root, source);
    for (int i = 0; i < layers.size(); i++) {
      String where = source + ": layers[" + i + "]";
      Map<?, ?> entry = object(layers.get(i), where);
      model.add(layer(String.valueOf(entry.get("type")), entry, where));
    }
    return model;
  }

  private static Graph graph(Map<?, ?> root, String source) {
    Map<String, Node> nodes = new HashMap<>();
    List<Node> inputs = new ArrayList<>();
    List<?> inputList = list(root.get("inputs"), source + ": \"inputs\"");
    if (inputList.isEmpty() || inputList.size() > 64) {
      throw new IllegalArgumentException(source + ": \"inputs\" must hold 1 to 64 inputs");
    }
    for (int i = 0; i < inputList.size(); i++) {
      String where = source + ": inputs[" + i + "]";
      Map<?, ?> entry = object(inputList.get(i), where);
      String name = name(entry, where);
      Node in = Node.input(shape(entry.get("shape"), where + ".shape"), name);
      if (nodes.put(name, in) != null) {
        throw new IllegalArgumentException(where + ": a second node named \"" + name + "\"");
      }
      inputs.add(in);
    }
    // Layers in file order; each may only read nodes already made, so a cycle (or an edge to a
    // layer listed later) is found as a name that does not exist yet.
    List<?> layers = layerList(root, source);
    List<Map<?, ?>> entries = new ArrayList<>();
    Map<String, Integer> position = new HashMap<>();
    for (int i = 0; i < layers.size(); i++) {
      String where = source + ": layers[" + i + "]";
      Map<?, ?> entry = object(layers.get(i), where);
      String name = name(entry, where);
      if (nodes.containsKey(name) || position.put(name, i) != null) {
        throw new IllegalArgumentException(
            where + ": duplicate node name \"" + name + "\"; names must be unique");
      }
      entries.add(entry);
    }
    Sequential stack = asSequential(inputs, entries, root.get("outputs"), source);
    if (stack != null) {
      return stack;
    }
    List<String> pending = new ArrayList<>(position.keySet());
    boolean progress = true;
    while (!pending.isEmpty() && progress) {
      progress = false;
      for (int i = 0; i < entries.size(); i++) {
        Map<?, ?> entry = entries.get(i);
        String name = (String) entry.get("name");
        if (nodes.containsKey(name)) {
          continue;
        }
        String where = source + ": layers[" + i + "] (" + name + ")";
        List<?> inbound = list(entry.get("inbound"), where + ".inbound");
        List<Node> from = new ArrayList<>();
        for (Object o : inbound) {
          if (!(o instanceof String s) || (!nodes.containsKey(s) && !position.containsKey(s))) {
            throw new IllegalArgumentException(
                where + ": reads \"" + o + "\", which is no input or layer of this model");
          }
          from.add(nodes.get(s));
        }
        if (from.contains(null)) {
          continue; // an input is not made yet
        }
        Layer layer = layer(String.valueOf(entry.get("class_name")), entry, where);
        try {
          nodes.put(name, layer.apply(from.toArray(new Node[0])));
        } catch (IllegalArgumentException e) {
          throw new IllegalArgumentException(where + ": " + e.getMessage(), e);
        }
        pending.remove(name);
        progress = true;
      }
    }
    if (!pending.isEmpty()) {
      throw new IllegalArgumentException(
          source + ": layers " + pending + " form a cycle (each reads another's output)");
    }
    List<Node> outputs = new ArrayList<>();
    for (Object o : list(root.get("outputs"), source + ": \"outputs\"")) {
      Node n = o instanceof String s ? nodes.get(s) : null;
      if (n == null) {
        throw new IllegalArgumentException(
            source + ": output \"" + o + "\" is no layer of this model");
      }
      outputs.add(n);
    }
    return new Graph(inputs, outputs);
  }

  /**
   * A graph that is one path (input → layer 1 → … → layer n = the output) as the Sequential it was
   * saved from; null for any other graph.
   */
  private static Sequential asSequential(
      List<Node> inputs, List<Map<?, ?>> entries, Object outputs, String source) {
    if (inputs.size() != 1 || !(outputs instanceof List<?> outs) || outs.size() != 1) {
      return null;
    }
    Object previous = inputs.get(0).label();
    for (Map<?, ?> entry : entries) {
      if (!(entry.get("inbound") instanceof List<?> in)
          || in.size() != 1
          || !previous.equals(in.get(0))) {
        return null;
      }
      previous = entry.get("name");
    }
    if (!previous.equals(outs.get(0))) {
      return null;
    }
    Sequential stack = new Sequential(inputs.get(0).shape());
    for (int i = 0; i < entries.size(); i++) {
      Map<?, ?> entry = entries.get(i);
      String where = source + ": layers[" + i + "] (" + entry.get("name") + ")";
      stack.add(layer(String.valueOf(entry.get("class_name")), entry, where));
    }
    return stack;
  }

  private static Layer layer(String className, Map<?, ?> entry, String where) {
    String label = where + " (" + className + ")";
    Map<?, ?> config = object(entry.get("config"), label + ".config");
    Layer layer;
    try {
      layer = LayerRegistry.create(className, new LayerConfig(config, label));
    } catch (ClassCastException e) {
      throw new IllegalArgumentException(label + ": " + e.getMessage(), e);
    }
    if (entry.get("name") instanceof String name && name.matches("[A-Za-z][A-Za-z0-9_]{0,127}")) {
      layer.named(name);
    }
    return layer;
  }

  private static List<?> layerList(Map<?, ?> root, String source) {
    List<?> layers = list(root.get("layers"), source + ": \"layers\"");
    if (layers.isEmpty() || layers.size() > MAX_LAYERS) {
      throw new IllegalArgumentException(
          source + ": \"layers\" must hold 1 to " + MAX_LAYERS + " layers, got " + layers.size());
    }
    return layers;
  }

  private static String name(Map<?, ?> entry, String where) {
    if (!(entry.get("name") instanceof String s) || s.isEmpty() || s.length() > 128) {
      throw new IllegalArgumentException(where + ": \"name\" must be a non-empty string");
    }
    return s;
  }

  private static Shape shape(Object o, String where) {
    List<?> l = list(o, where);
    if (l.isEmpty() || l.size() > 4) {
      throw new IllegalArgumentException(where + " must have 1 to 4 dimensions");
    }
    int[] dims = new int[l.size()];
    for (int i = 0; i < dims.length; i++) {
      dims[i] = LayerConfig.intIn(l.get(i), 1, 1 << 20, where + "[" + i + "]");
    }
    return Shape.of(dims);
  }

  private static List<Object> dims(Shape s) {
    List<Object> out = new ArrayList<>();
    for (int d : s.dims()) {
      out.add(d);
    }
    return out;
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
}
