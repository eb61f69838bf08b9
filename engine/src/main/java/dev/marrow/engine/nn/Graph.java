package dev.marrow.engine.nn;

import dev.marrow.engine.tensor.Shape;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.Deque;
import java.util.HashMap;
import java.util.HashSet;
import java.util.IdentityHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;

/**
 * A model: a directed acyclic graph of layers from input node(s) to output node(s), Keras'
 * functional {@code Model(inputs, outputs)}. {@link Sequential} is the graph with one path.
 *
 * <pre>{@code
 * Node x = Node.input(1, 28, 28);
 * Node h = new Conv2D(...).apply(x);
 * Node y = new Add().apply(h, new Conv2D(...).apply(h));   // a residual connection
 * Graph g = new Graph(List.of(x), List.of(new Dense(10).apply(new Flatten().apply(y))));
 * }</pre>
 *
 * <p>The structure is checked when the graph is made: every node an output depends on must come
 * from the graph's inputs, and every input must feed an output. {@link #build} names the layers
 * ({@code conv1}, {@code add1}, or the names given) in topological order, refuses duplicate names,
 * and creates the parameters.
 */
public class Graph {
  private final List<Node> declaredInputs;
  private final List<Node> declaredOutputs;
  private List<Node> inputs = List.of();
  private List<Node> outputs = List.of();
  private List<Node> layerNodes = List.of();
  private List<Layer> layers = List.of();
  private boolean built;
  private List<String> classNames = List.of();
  private Map<String, List<String>> dataDescription = Map.of();

  /** A functional model from {@code inputs} to {@code outputs}. */
  public Graph(List<Node> inputs, List<Node> outputs) {
    this.declaredInputs = List.copyOf(inputs);
    this.declaredOutputs = List.copyOf(outputs);
    resolve(declaredInputs, declaredOutputs);
  }

  /** For {@link Sequential}, whose structure is known only at build. */
  Graph() {
    this.declaredInputs = null;
    this.declaredOutputs = null;
  }

  /** The inputs and outputs to build; Sequential makes its chain of nodes here. */
  Structure structure() {
    return new Structure(declaredInputs, declaredOutputs);
  }

  record Structure(List<Node> inputs, List<Node> outputs) {}

  /** Checks the structure and orders the layer nodes topologically. */
  private void resolve(List<Node> ins, List<Node> outs) {
    if (ins.isEmpty() || outs.isEmpty()) {
      throw new IllegalArgumentException("a model needs at least one input and one output node");
    }
    Set<Node> inputSet = Collections.newSetFromMap(new IdentityHashMap<>());
    for (Node n : ins) {
      if (!n.isInput()) {
        throw new IllegalArgumentException(
            "model inputs must be input nodes (Node.input), but " + n + " is a layer's output");
      }
      if (!inputSet.add(n)) {
        throw new IllegalArgumentException("input " + n + " is listed twice");
      }
    }
    // Every node the outputs depend on, found by walking inbound edges back from the outputs.
    Set<Node> reached = Collections.newSetFromMap(new IdentityHashMap<>());
    Deque<Node> todo = new ArrayDeque<>();
    for (Node n : outs) {
      if (n.isInput()) {
        throw new IllegalArgumentException(
            "output " + n + " is an input node: apply at least one layer");
      }
      todo.push(n);
    }
    while (!todo.isEmpty()) {
      Node n = todo.pop();
      if (!reached.add(n)) {
        continue;
      }
      if (n.isInput() && !inputSet.contains(n)) {
        throw new IllegalArgumentException(
            "the outputs depend on input node "
                + n
                + ", which is not one of the model's inputs ("
                + Node.list(ins)
                + "): pass it in the inputs, or build that branch from one of them");
      }
      n.inbound().forEach(todo::push);
    }
    for (Node n : ins) {
      if (!reached.contains(n)) {
        throw new IllegalArgumentException(
            "input " + n + " feeds none of the outputs (" + Node.list(outs) + ")");
      }
    }
    List<Node> order = new ArrayList<>();
    for (Node n : reached) {
      if (!n.isInput()) {
        order.add(n);
      }
    }
    order.sort(Comparator.comparingLong(Node::sequence)); // creation order is topological
    this.inputs = List.copyOf(ins);
    this.outputs = List.copyOf(outs);
    this.layerNodes = List.copyOf(order);
    List<Layer> ls = new ArrayList<>();
    for (Node n : order) {
      ls.add(n.layer());
    }
    this.layers = Collections.unmodifiableList(ls);
  }

  /**
   * Names every layer (the name given, else type and count: {@code conv1}, {@code conv2}, {@code
   * add1}) in topological order, checks that names are unique, and creates the parameters from
   * {@code seed}: the same seed gives the same weights.
   */
  public Graph build(long seed) {
    if (built) {
      throw new IllegalStateException("model is already built");
    }
    Structure s = structure();
    if (declaredInputs == null) {
      resolve(s.inputs(), s.outputs());
    }
    Set<String> requested = new HashSet<>();
    for (Layer l : layers) {
      if (l.requestedName() != null && !requested.add(l.requestedName())) {
        throw new IllegalArgumentException(
            "two layers are named '" + l.requestedName() + "'; layer names must be unique");
      }
    }
    SplittableRandom random = new SplittableRandom(seed);
    Map<String, Integer> counts = new HashMap<>();
    Set<String> used = new HashSet<>(requested);
    for (int i = 0; i < layerNodes.size(); i++) {
      Node node = layerNodes.get(i);
      Layer layer = node.layer();
      String name = layer.requestedName();
      while (name == null || (layer.requestedName() == null && !used.add(name))) {
        name = layer.typeName() + counts.merge(layer.typeName(), 1, Integer::sum);
      }
      List<Shape> shapes = new ArrayList<>();
      for (Node in : node.inbound()) {
        shapes.add(in.shape());
      }
      try {
        layer.build(name, i, shapes, random.split());
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException("layer " + name + ": " + e.getMessage(), e);
      }
      Shape shape = layer.outputShape();
      if (shape.size() > Layer.MAX_PARAMETER_ELEMENTS) {
        throw new IllegalArgumentException(
            "layer "
                + name
                + " outputs "
                + shape
                + " per sample: more than "
                + Layer.MAX_PARAMETER_ELEMENTS
                + " values");
      }
    }
    built = true;
    return this;
  }

  public boolean isBuilt() {
    return built;
  }

  /** The input nodes, in the order the model takes them. */
  public List<Node> inputs() {
    return inputs;
  }

  /** The output nodes, in the order the model gives them. */
  public List<Node> outputs() {
    return outputs;
  }

  /** Every layer's node in topological order (inputs excluded): the order a plan runs them. */
  public List<Node> layerNodes() {
    return layerNodes;
  }

  /** The per-sample input shape of a one-input model. */
  public Shape inputShape() {
    if (inputs.size() != 1) {
      throw new IllegalStateException(
          "this model has " + inputs.size() + " inputs: use inputs() for their shapes");
    }
    return inputs.get(0).shape();
  }

  /** The per-sample output shape of a one-output model. */
  public Shape outputShape() {
    requireBuilt();
    if (outputs.size() != 1) {
      throw new IllegalStateException(
          "this model has " + outputs.size() + " outputs: use outputs() for their shapes");
    }
    return outputs.get(0).shape();
  }

  /** The layers in topological order. */
  public List<Layer> layers() {
    return layers;
  }

  /** True when every layer reads the one before it: a {@link Sequential} stack. */
  public boolean isChain() {
    if (inputs.size() != 1 || outputs.size() != 1) {
      return false;
    }
    Node previous = inputs.get(0);
    for (Node n : layerNodes) {
      if (n.inbound().size() != 1 || n.inbound().get(0) != previous) {
        return false;
      }
      previous = n;
    }
    return previous == outputs.get(0);
  }

  /** All parameters in layer order. */
  public List<Parameter> parameters() {
    requireBuilt();
    List<Parameter> ps = new ArrayList<>();
    for (Layer l : layers) {
      ps.addAll(l.parameters());
    }
    return ps;
  }

  public long parameterCount() {
    requireBuilt();
    return layers.stream().mapToLong(Layer::parameterCount).sum();
  }

  /**
   * The names of the classes the outputs stand for, in output order ({@code ["cat", "dog"]}), or
   * empty when the model has none (then classes are called by their index). Saved with the model.
   */
  public List<String> classNames() {
    return classNames;
  }

  /** Names the output classes; their count must match the output width once the model is built. */
  public Graph setClassNames(List<String> names) {
    List<String> copy = List.copyOf(names);
    if (copy.isEmpty()) {
      classNames = copy;
      return this;
    }
    if (outputs.size() > 1) {
      throw new IllegalArgumentException(
          "class names name the outputs of a one-output model; this one has " + outputs.size());
    }
    boolean binary = built && outputShape().size() == 1 && copy.size() == 2; // one logit
    if (built && !binary && (outputShape().rank() != 1 || outputShape().dim(0) != copy.size())) {
      throw new IllegalArgumentException(
          copy.size()
              + " class names for a model whose output is "
              + outputShape()
              + "; expected one name per output (or two for a single binary output)");
    }
    classNames = copy;
    return this;
  }

  /**
   * What the model was trained on, for tools that feed it later: e.g. {@code "feature_columns"} and
   * {@code "target_columns"} of a table, or {@code "task"}. Saved with the model; empty when nobody
   * set it.
   */
  public Map<String, List<String>> dataDescription() {
    return dataDescription;
  }

  public Graph setDataDescription(Map<String, List<String>> description) {
    Map<String, List<String>> copy = new java.util.LinkedHashMap<>();
    description.forEach((k, v) -> copy.put(k, List.copyOf(v)));
    dataDescription = java.util.Collections.unmodifiableMap(copy);
    return this;
  }

  /**
   * A table like Keras' {@code model.summary()}; a graph that is not a plain stack gets Keras'
   * "Connected to" column.
   */
  public String summary() {
    requireBuilt();
    return ModelSummary.of(this);
  }

  void requireBuilt() {
    if (!built) {
      throw new IllegalStateException("model is not built yet: call build(seed) first");
    }
  }

  /** The distinct nodes read by some layer, for tools that walk the graph. */
  public Set<Node> nodes() {
    Set<Node> all = new LinkedHashSet<>(inputs);
    all.addAll(layerNodes);
    return all;
  }
}
