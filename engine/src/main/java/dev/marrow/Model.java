package dev.marrow;

import dev.marrow.engine.backend.Backend;
import dev.marrow.engine.backend.Backends;
import dev.marrow.engine.data.DataSource;
import dev.marrow.engine.data.Dataset;
import dev.marrow.engine.io.ModelFiles;
import dev.marrow.engine.loss.Loss;
import dev.marrow.engine.nn.Graph;
import dev.marrow.engine.nn.Layer;
import dev.marrow.engine.nn.Node;
import dev.marrow.engine.nn.Sequential;
import dev.marrow.engine.optim.Optimizer;
import dev.marrow.engine.tensor.Tensor;
import dev.marrow.engine.train.Classification;
import dev.marrow.engine.train.Evaluation;
import dev.marrow.engine.train.FitOptions;
import dev.marrow.engine.train.History;
import dev.marrow.engine.train.Plan;
import dev.marrow.engine.train.Predictor;
import dev.marrow.engine.train.Trainer;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Marrow's front door: a model you build, compile, fit, evaluate, save and load the way Keras does,
 * or drive step by step the way a PyTorch loop does. A functional model may have several inputs and
 * outputs: fit it on a {@link dev.marrow.engine.data.MultiDataset} (features per input, targets per
 * output) after {@link #compile(Optimizer, Map, Map, Map)} with a loss per output.
 *
 * <pre>{@code
 * try (Model model = Model.sequential(1, 28, 28)
 *     .add(Layers.conv2d(16, 5, "relu")).add(Layers.maxPool(2))
 *     .add(Layers.flatten()).add(Layers.dense(10))
 *     .compile(Optimizers.adam(1e-3), Losses.sparseCategoricalCrossentropy(true))) {
 *   model.fit(train, FitOptions.defaults().epochs(3).batchSize(128));
 *   model.save(Path.of("my-model"));
 * }
 * }</pre>
 *
 * <p>A loaded model predicts without being compiled: {@code Model.load(dir).predict(x)} (or {@link
 * #predictProbabilities}, {@link #classify}, or a {@link Predictor} shared by many threads).
 *
 * <p>A model owns the backend it opens itself ({@link #compile(Optimizer, Loss, String)}, or the
 * first prediction of an uncompiled model, both through {@link Backends#open}) and closes it in
 * {@link #close()}; a backend passed in is the caller's to close.
 */
public final class Model implements AutoCloseable {
  private final Graph network;
  private long seed = 42;
  private Trainer trainer;
  private Backend ownedBackend;

  /** Serves predictions before (or without) compile: no optimizer, no loss. */
  private Predictor inferenceOnly;

  private Backend inferenceBackend;
  private String device = "auto";
  private List<String> metricNames;
  private final Map<Integer, Plan> stepPlans = new HashMap<>();

  private Model(Graph network) {
    JvmFlags.requireVectorApi(); // before any kernel class loads, with the flags to add
    this.network = network;
  }

  /** A model taking samples of the given shape, e.g. {@code sequential(1, 28, 28)}. */
  public static Model sequential(int... inputShape) {
    return new Model(new Sequential(inputShape));
  }

  /** Wraps an existing network: a {@link Sequential} or any {@link Graph}. */
  public static Model of(Graph network) {
    return new Model(network);
  }

  /**
   * Keras' functional {@code Model(inputs, outputs)}: a model of the layers between one input node
   * and one output node ({@code Node x = Layers.input(1, 28, 28); ... Model.functional(x, y)}).
   */
  public static Model functional(Node input, Node output) {
    return new Model(new Graph(List.of(input), List.of(output)));
  }

  /** A functional model with several inputs or outputs. */
  public static Model functional(List<Node> inputs, List<Node> outputs) {
    return new Model(new Graph(inputs, outputs));
  }

  /** Loads a model saved with {@link #save} (or a run folder written by {@code marrow train}). */
  public static Model load(Path dir) throws IOException {
    return new Model(ModelFiles.load(dir));
  }

  /** Appends a layer (before compile). */
  public Model add(Layer layer) {
    if (!(network instanceof Sequential stack)) {
      throw new IllegalStateException(
          "add() appends to a sequential model; a functional model is made from its nodes");
    }
    stack.add(layer);
    return this;
  }

  /** The seed weights are initialised from (default 42); call before compile. */
  public Model seed(long seed) {
    this.seed = seed;
    return this;
  }

  /**
   * The device this model opens its own backend on, for {@link #compile(Optimizer, Loss)} and for
   * predictions before compile: {@code "auto"} (the default), {@code "cpu"}, {@code "cuda"} or
   * {@code "cuda:N"} (PyTorch's {@code model.to(device)}). Call before either.
   */
  public synchronized Model to(String device) {
    if (trainer != null || inferenceOnly != null) {
      throw new IllegalStateException(
          "the model already runs on a backend: call to(device)" + " before compile and predict");
    }
    this.device = Objects.requireNonNull(device, "device");
    return this;
  }

  /**
   * Compiles for the device set by {@link #to} ({@code "auto"} by default: CUDA when its libraries
   * and a GPU are there, else the CPU on every core; {@code -Dmarrow.device} overrides it).
   */
  public Model compile(Optimizer optimizer, Loss loss) {
    return compile(optimizer, loss, device);
  }

  /**
   * Keras' {@code compile(optimizer, loss, metrics=[…])}: the metrics by name ({@code accuracy},
   * {@code binary_accuracy}, {@code top_k_accuracy}, {@code mae}, {@code mse}, {@code rmse}, {@code
   * auc}), reported by fit and evaluate and monitorable by callbacks. Without it a classifier
   * reports accuracy and a regression model only its loss.
   */
  public Model compile(Optimizer optimizer, Loss loss, List<String> metrics) {
    this.metricNames = List.copyOf(metrics);
    return compile(optimizer, loss, device);
  }

  /**
   * Compiles for a device, {@code "auto"}, {@code "cpu"}, {@code "cuda"} or {@code "cuda:N"},
   * opened through {@link Backends#open} and owned (closed) by this model.
   */
  public Model compile(Optimizer optimizer, Loss loss, String device) {
    Objects.requireNonNull(optimizer, "optimizer");
    Objects.requireNonNull(loss, "loss");
    if (trainer != null) {
      throw new IllegalStateException("model is already compiled");
    }
    Backend backend = Backends.open(device).backend();
    compile(optimizer, loss, backend);
    ownedBackend = backend;
    return this;
  }

  /** Compiles for a given backend: initialises the weights if needed and binds the optimizer. */
  public Model compile(Optimizer optimizer, Loss loss, Backend backend) {
    if (trainer != null) {
      throw new IllegalStateException("model is already compiled");
    }
    if (!network.isBuilt()) {
      network.build(seed);
    }
    trainer =
        new Trainer(
            network,
            Objects.requireNonNull(optimizer, "optimizer"),
            Objects.requireNonNull(loss, "loss"),
            Objects.requireNonNull(backend, "backend"),
            metricNames);
    return this;
  }

  /**
   * Keras' {@code compile(optimizer, loss={…}, loss_weights={…}, metrics={…})} for a model with
   * several outputs, keyed by output name (the output layers' names): a loss for every output,
   * their weights in the total loss (empty: all 1), and metrics by Keras name per output (empty:
   * the defaults). Fit and evaluate then log {@code loss} (the weighted total), each output's
   * {@code <name>_loss} and its metrics as {@code <name>_<metric>}. On the device of {@link #to}.
   */
  public Model compile(
      Optimizer optimizer,
      Map<String, Loss> losses,
      Map<String, Double> lossWeights,
      Map<String, List<String>> metrics) {
    requireNotCompiled();
    if (!network.isBuilt()) {
      network.build(seed);
    }
    List<String> names = Trainer.outputNames(network);
    for (String key : losses.keySet()) {
      requireOutput(key, names, "a loss");
    }
    for (String key : lossWeights.keySet()) {
      requireOutput(key, names, "a loss weight");
    }
    List<Loss> byOutput = new ArrayList<>();
    List<Double> weights = new ArrayList<>();
    for (String n : names) {
      Loss l = losses.get(n);
      if (l == null) {
        throw new IllegalArgumentException(
            "no loss for output '" + n + "'; the outputs are " + names);
      }
      byOutput.add(l);
      weights.add(lossWeights.getOrDefault(n, 1.0));
    }
    return compileOutputs(optimizer, byOutput, weights, metrics.isEmpty() ? null : metrics);
  }

  /**
   * Keras' list form, {@code compile(optimizer, loss=[…], loss_weights=[…])}: one loss per output
   * in the model's output order, their weights (empty: all 1), the default metrics.
   */
  public Model compile(Optimizer optimizer, List<Loss> losses, List<Double> lossWeights) {
    requireNotCompiled();
    if (!network.isBuilt()) {
      network.build(seed);
    }
    return compileOutputs(optimizer, losses, lossWeights, null);
  }

  private Model compileOutputs(
      Optimizer optimizer,
      List<Loss> losses,
      List<Double> lossWeights,
      Map<String, List<String>> metrics) {
    Objects.requireNonNull(optimizer, "optimizer");
    Backend backend = Backends.open(device).backend();
    try {
      trainer = new Trainer(network, optimizer, losses, lossWeights, backend, metrics);
    } catch (RuntimeException e) {
      backend.close();
      throw e;
    }
    ownedBackend = backend;
    return this;
  }

  private static void requireOutput(String name, List<String> outputs, String what) {
    if (!outputs.contains(name)) {
      throw new IllegalArgumentException(
          what + " for '" + name + "', which is not an output; the outputs are " + outputs);
    }
  }

  private void requireNotCompiled() {
    if (trainer != null) {
      throw new IllegalStateException("model is already compiled");
    }
  }

  /** Keras' {@code fit}, on an in-memory {@link Dataset} or any other {@link DataSource}. */
  public History fit(DataSource data, FitOptions options) {
    return compiled().fit(data, options);
  }

  /** Keras' {@code evaluate}: mean loss and the compiled metrics in inference mode. */
  public Evaluation evaluate(DataSource data) {
    return compiled().evaluate(data);
  }

  /** The outputs for every sample of a data source (its targets ignored): (N, output shape). */
  public Tensor predict(DataSource data) {
    return predictor().predict(data);
  }

  /**
   * The last layer's outputs for inputs of shape (N, input shape): (N, output shape). Works on a
   * loaded model without compile. Safe from many threads at once.
   */
  public Tensor predict(Tensor inputs) {
    return predictor().predict(inputs);
  }

  /**
   * Keras' {@code predict([x1, x2])}: one tensor per input, (N, input shape) each, in the model's
   * input order; returns one per output, (N, output shape) each.
   */
  public List<Tensor> predict(List<Tensor> inputs) {
    return predictor().predict(inputs);
  }

  /** Every output for every sample of a data source, in the model's output order. */
  public List<Tensor> predictOutputs(DataSource data) {
    return predictor().predictOutputs(data);
  }

  /** Class probabilities (N, classes): the softmax of the outputs unless the model ends in one. */
  public Tensor predictProbabilities(Tensor inputs) {
    return predictor().predictProbabilities(inputs);
  }

  /** Each sample's {@code k} most probable classes, named by {@link #classNames()} when set. */
  public List<List<Classification>> classify(Tensor inputs, int k) {
    return predictor().classify(inputs, k);
  }

  /**
   * The thread-safe predictor: the compiled model's, or (before compile, e.g. right after {@link
   * #load}) one on the backend of {@link #to} (default "auto"), opened and owned by this model.
   */
  public synchronized Predictor predictor() {
    if (trainer != null) {
      return trainer.predictor();
    }
    if (inferenceOnly == null) {
      if (!network.isBuilt()) {
        network.build(seed);
      }
      inferenceBackend = Backends.open(device).backend();
      inferenceOnly = new Predictor(network, inferenceBackend);
    }
    return inferenceOnly;
  }

  /** Names the output classes (saved with the model; {@link #classify} reports them). */
  public Model classNames(List<String> names) {
    network.setClassNames(names);
    return this;
  }

  /** The output classes' names, or empty when the model has none. */
  public List<String> classNames() {
    return network.classNames();
  }

  /**
   * PyTorch's {@code loss.backward()}: forward in training mode and backward on one batch, leaving
   * gradients in the parameters; returns the batch's mean loss. Follow with {@link #step()}.
   */
  public float backward(Tensor inputs, int[] labels) {
    Trainer t = compiled();
    network.inputShape().requireBatchOf(inputs.shape(), "backward");
    int n = inputs.shape().dim(0);
    if (labels.length != n) {
      throw new IllegalArgumentException(n + " inputs but " + labels.length + " labels");
    }
    Plan plan =
        stepPlans.computeIfAbsent(n, b -> Plan.forTraining(network, t.backend(), b, t.loss()));
    Dataset batch = new Dataset(inputs, labels, network.outputShape().dim(-1));
    plan.loadBatch(batch, null, 0);
    plan.setStepSeed(seed ^ t.optimizer().iterations());
    return plan.computeGradients();
  }

  /** PyTorch's {@code optimizer.step()}: one update from the current gradients. */
  public void step() {
    Trainer t = compiled();
    t.optimizer().step(t.backend(), network.parameters());
  }

  /** Writes model.json and model.safetensors into {@code dir} (atomically). */
  public void save(Path dir) throws IOException {
    if (!network.isBuilt()) {
      network.build(seed);
    }
    ModelFiles.save(network, dir, Map.of("marrow", "0.1.0-SNAPSHOT"));
  }

  /** Keras-style summary table. */
  public String summary() {
    if (!network.isBuilt()) {
      network.build(seed);
    }
    return network.summary();
  }

  /** The layer graph, for code that needs the engine directly. */
  public Graph network() {
    return network;
  }

  private Trainer compiled() {
    if (trainer == null) {
      throw new IllegalStateException("compile the model first: model.compile(optimizer, loss)");
    }
    return trainer;
  }

  @Override
  public synchronized void close() {
    if (ownedBackend != null) {
      ownedBackend.close();
      ownedBackend = null;
    }
    if (inferenceBackend != null) {
      inferenceBackend.close();
      inferenceBackend = null;
      inferenceOnly = null;
    }
  }
}
