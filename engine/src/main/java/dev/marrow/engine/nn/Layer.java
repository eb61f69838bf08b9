package dev.marrow.engine.nn;

import dev.marrow.engine.tensor.Shape;
import dev.marrow.engine.tensor.Tensor;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.random.RandomGenerator;

/**
 * A layer, following Keras' contract: constructed from its configuration, {@link #build built} once
 * the input shape is known (creating its parameters), then {@link #compile compiled} into a {@link
 * LayerStep} per plan. Shapes exclude the batch axis.
 */
public abstract class Layer {
  private String name;
  private Shape inputShape;
  private Shape outputShape;
  private int index = -1;

  /** For subclasses: built-in layers and users' own. */
  protected Layer() {}

  /** The Keras-style type name ("dense", "dropout"), also the prefix of generated names. */
  public abstract String typeName();

  /** The per-sample output shape for a per-sample input shape; validates the input. */
  public abstract Shape computeOutputShape(Shape inputShape);

  /** Creates the parameters for the given input shape; layers without parameters do nothing. */
  protected void createParameters(Shape inputShape, RandomGenerator random) {}

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

  /** Called once by the model: fixes the name and input shape, then creates parameters. */
  final void build(String name, int index, Shape inputShape, RandomGenerator random) {
    if (this.inputShape != null) {
      throw new IllegalStateException("layer " + this.name + " is already part of a model");
    }
    this.name = name;
    this.index = index;
    this.outputShape = computeOutputShape(inputShape);
    this.inputShape = inputShape;
    createParameters(inputShape, random);
  }

  public String name() {
    return name;
  }

  /** Position in the model, used to derive per-layer random seeds. */
  public int index() {
    return index;
  }

  public Shape inputShape() {
    return inputShape;
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
