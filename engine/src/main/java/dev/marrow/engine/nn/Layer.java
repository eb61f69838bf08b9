package dev.marrow.engine.nn;

import dev.marrow.engine.tensor.Shape;
import dev.marrow.engine.tensor.Tensor;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.random.RandomGenerator;

/**
 * A layer, following Keras' contract: constructed from its configuration, applied to the node(s) it
 * reads ({@link #apply}, or by {@link Sequential#add}), {@link #build built} once the model knows
 * its input shapes (creating its parameters), then {@link #compile compiled} into a {@link
 * LayerStep} per plan. Shapes exclude the batch axis.
 *
 * <p><b>Your own layer</b> subclasses this: {@link #typeName()} (the prefix of its generated
 * names), {@link #computeOutputShape(Shape)} (validate the input, return the output), {@link
 * #createParameters} with {@link #newParameter} (initialise them from the random generator), {@link
 * #parameters()}, {@link #config()} (its arguments, for model.json), and {@link #compile} returning
 * a {@link LayerStep} whose forward and backward call {@link dev.marrow.engine.backend.Backend}
 * kernels only (so it runs on every backend and allocates nothing per step). Its buffers from
 * {@link CompileContext#allocateBatch} are its own; the lent ones and {@link #backwardReads()} let
 * a plan reuse memory (see {@link CompileContext}). Register a from-config factory under its class
 * name with {@link LayerRegistry#register} so saved models load it. A layer reading several nodes
 * extends {@link MergeLayer}.
 */
public abstract class Layer {
  private String name;
  private String requestedName;
  private List<Shape> inputShapes;
  private Shape outputShape;
  private int index = -1;
  private boolean applied;

  /** For subclasses: built-in layers and users' own. */
  protected Layer() {}

  /** The Keras-style type name ("dense", "dropout"), also the prefix of generated names. */
  public abstract String typeName();

  /**
   * The name model.json and {@link LayerRegistry} know this layer type by: Keras' class name
   * ({@code Dense}, {@code Conv2D}); by default the Java class's simple name.
   */
  public String className() {
    return getClass().getSimpleName();
  }

  /**
   * Names this layer (Keras' {@code name=}); otherwise the model names it by type and position.
   * Letters, digits and underscores, starting with a letter: the name prefixes its parameters'.
   */
  public Layer named(String name) {
    if (inputShapes != null) {
      throw new IllegalStateException("layer " + this.name + " is already built");
    }
    if (name == null || !name.matches("[A-Za-z][A-Za-z0-9_]{0,127}")) {
      throw new IllegalArgumentException(
          "a layer name is a letter then letters, digits or underscores, got '" + name + "'");
    }
    this.requestedName = name;
    return this;
  }

  /** The name given with {@link #named}, or null. */
  public String requestedName() {
    return requestedName;
  }

  /** How many nodes this layer reads: exactly one, except for merge layers. */
  public boolean acceptsInputCount(int count) {
    return count == 1;
  }

  /**
   * The output shape for the shapes of the nodes read; validates them. One input goes to {@link
   * #computeOutputShape(Shape)}.
   */
  public Shape computeOutputShape(List<Shape> inputShapes) {
    if (inputShapes.size() != 1) {
      throw new IllegalArgumentException(
          typeName() + " reads one input, got " + inputShapes.size());
    }
    return computeOutputShape(inputShapes.get(0));
  }

  /**
   * Keras' {@code layer(x)}: a new node holding this layer's output for the given input node(s). A
   * layer is applied once (shared layers are not supported).
   */
  public Node apply(Node... inputs) {
    return Node.of(this, List.of(inputs));
  }

  /** Marks this layer as applied; a second application is an error naming the layer. */
  void markApplied() {
    if (applied) {
      throw new IllegalStateException(
          "layer "
              + (requestedName != null ? requestedName : typeName())
              + " is already applied to a node; create another layer (sharing a layer's weights"
              + " between nodes is not supported)");
    }
    applied = true;
  }

  /** The per-sample output shape for a per-sample input shape; validates the input. */
  public abstract Shape computeOutputShape(Shape inputShape);

  /** Creates the parameters for the given input shape; layers without parameters do nothing. */
  protected void createParameters(Shape inputShape, RandomGenerator random) {}

  /** Creates the parameters for several inputs; one input goes to the method above. */
  protected void createParameters(List<Shape> inputShapes, RandomGenerator random) {
    createParameters(inputShapes.get(0), random);
  }

  /**
   * Largest parameter tensor a layer may create: 2^28 floats (1 GiB). A model description from a
   * file cannot make the JVM try to allocate more (found by fuzzing model.json).
   */
  public static final long MAX_PARAMETER_ELEMENTS = 1L << 28;

  /** A zero-filled parameter named {@code <layer>.<suffix>}, refusing absurd sizes up front. */
  protected Parameter newParameter(String suffix, int... dims) {
    long elements = 1;
    for (int d : dims) {
      elements *= d;
    }
    if (elements > MAX_PARAMETER_ELEMENTS) {
      throw new IllegalArgumentException(
          name()
              + "."
              + suffix
              + " would need "
              + java.util.Arrays.toString(dims)
              + " = "
              + elements
              + " parameters; the limit is "
              + MAX_PARAMETER_ELEMENTS);
    }
    return new Parameter(name() + "." + suffix, Tensor.zeros(dims));
  }

  /** The given parameters that exist (a layer without bias passes null for it), in order. */
  protected static List<Parameter> present(Parameter... parameters) {
    java.util.ArrayList<Parameter> out = new java.util.ArrayList<>();
    for (Parameter p : parameters) {
      if (p != null) {
        out.add(p);
      }
    }
    return out;
  }

  /** The trainable parameters, in a stable order; empty before build. */
  public List<Parameter> parameters() {
    return List.of();
  }

  /**
   * Binds this layer into a plan. {@code inputGrad} is where backward must write the gradient of
   * the input, or null when nothing upstream needs it (the first layer, or inference).
   */
  public abstract LayerStep compile(CompileContext ctx, Tensor input, Tensor inputGrad);

  /**
   * Binds a layer reading several nodes: {@code inputGrads.get(i)} is null where input i needs no
   * gradient. One input goes to {@link #compile(CompileContext, Tensor, Tensor)}.
   */
  public LayerStep compile(CompileContext ctx, List<Tensor> inputs, List<Tensor> inputGrads) {
    return compile(ctx, inputs.get(0), inputGrads.get(0));
  }

  /**
   * What this layer's backward pass reads besides its output gradient, so that a plan keeps those
   * activations alive until then and lends the others' memory to later buffers. The default, both
   * inputs and output, is right for any layer; a layer that reads less says so to save memory.
   */
  public BackwardReads backwardReads() {
    return BackwardReads.INPUTS_AND_OUTPUT;
  }

  /**
   * Non-trainable state saved with the model (BatchNormalization's running statistics), named like
   * PyTorch's buffers.
   */
  public List<Parameter> buffers() {
    return List.of();
  }

  /** This layer's regularisation term added to the loss (Keras' kernel_regularizer); 0 if none. */
  public float l2Penalty(dev.marrow.engine.backend.Backend backend) {
    return 0;
  }

  /** The layer's arguments under Keras' names, for summaries and model.json. */
  public Map<String, Object> config() {
    return new LinkedHashMap<>();
  }

  /** Called once by the model: fixes the name and input shapes, then creates parameters. */
  final void build(String name, int index, List<Shape> inputShapes, RandomGenerator random) {
    if (this.inputShapes != null) {
      throw new IllegalStateException("layer " + this.name + " is already part of a model");
    }
    this.name = name;
    this.index = index;
    this.outputShape = computeOutputShape(inputShapes);
    this.inputShapes = List.copyOf(inputShapes);
    createParameters(inputShapes, random);
  }

  public String name() {
    return name;
  }

  /** Position in the model, used to derive per-layer random seeds. */
  public int index() {
    return index;
  }

  /** The (first) input's per-sample shape; null before build. */
  public Shape inputShape() {
    return inputShapes == null ? null : inputShapes.get(0);
  }

  /** Every input's per-sample shape, in the order the layer was applied to them. */
  public List<Shape> inputShapes() {
    return inputShapes;
  }

  public Shape outputShape() {
    return outputShape;
  }

  /** Number of scalars in this layer's parameters. */
  public long parameterCount() {
    long n = 0;
    for (Parameter p : parameters()) {
      n += p.value().size();
    }
    return n;
  }

  @Override
  public String toString() {
    return (name == null ? typeName() : name) + config();
  }
}
