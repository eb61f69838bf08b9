package dev.marrow.engine.train;

import dev.marrow.engine.backend.Backend;
import dev.marrow.engine.data.Batch;
import dev.marrow.engine.data.DataSource;
import dev.marrow.engine.data.Targets;
import dev.marrow.engine.loss.Loss;
import dev.marrow.engine.nn.BackwardReads;
import dev.marrow.engine.nn.BufferPlan;
import dev.marrow.engine.nn.CompileContext;
import dev.marrow.engine.nn.Graph;
import dev.marrow.engine.nn.Layer;
import dev.marrow.engine.nn.LayerStep;
import dev.marrow.engine.nn.Node;
import dev.marrow.engine.nn.Parameter;
import dev.marrow.engine.optim.Optimizer;
import dev.marrow.engine.tensor.Shape;
import dev.marrow.engine.tensor.Tensor;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;

/**
 * A model compiled for one backend and one batch size: every activation, gradient and workspace
 * buffer is allocated here, once, so that a step only runs kernels. Buffers whose lifetime has
 * ended lend their memory to later ones ({@link BufferPlan}; {@link #memory()} says what that
 * saves). Plans for different batch sizes of the same model share its parameters (and the
 * optimizer's slots, which live on them).
 */
public final class Plan {
  private final Graph model;
  private final Backend backend;
  private final int batch;
  private final boolean training;
  private final Loss loss;
  private final Tensor input;
  private final Tensor targets;
  private final Tensor inputGrad;

  /** One step per layer node, in topological order. */
  private final List<LayerStep> steps = new ArrayList<>();

  /** Whether step i runs backward: it has parameters, or something before it does. */
  private final boolean[] runsBackward;

  /**
   * Gradient sums, per step: after step i's backward, {@code partialGrads[i][k]} (a buffer the step
   * wrote the gradient of one of its input nodes into) is added to that node's gradient, {@code
   * nodeGrads[i][k]}. A node read by several layers has its gradient written in place by the reader
   * that runs backward first (the last in topological order) and the others' added to it, with
   * buffers made at compile time, so no step allocates.
   */
  private final Tensor[][] partialGrads;

  private final Tensor[][] nodeGrads;
  private final Tensor output;
  private final Tensor outputGrad;
  private final Memory memory;
  private final BufferPlan buffers;

  private final List<Parameter> parameters;

  /** Floats per sample of the output, the columns the loss sees. */
  private final int outputColumns;

  /** Where {@link #loadBatch(DataSource, int[], int)} reads to, made on first use. */
  private Batch staging;

  private long stepSeed;
  private float lastLoss;

  private Plan(
      Graph model,
      Backend backend,
      int batch,
      boolean training,
      Loss loss,
      boolean wantInputGradient,
      boolean reuseBuffers) {
    if (batch <= 0) {
      throw new IllegalArgumentException("batch size must be positive, got " + batch);
    }
    if (!model.isBuilt()) {
      throw new IllegalStateException("build the model (model.build(seed)) before compiling it");
    }
    if (model.inputs().size() != 1 || model.outputs().size() != 1) {
      throw new IllegalArgumentException(
          "plans run models with one input and one output; this one has "
              + model.inputs().size()
              + " and "
              + model.outputs().size());
    }
    this.model = model;
    this.backend = backend;
    this.batch = batch;
    this.training = training;
    this.loss = loss;
    this.parameters = model.parameters();
    Shape out = model.outputShape();
    this.outputColumns = out.size();
    List<Node> nodes = model.layerNodes();
    BufferPlan buffers = new BufferPlan(backend, nodes.size());
    this.input = buffers.own(model.inputShape().withBatch(batch), BufferPlan.Kind.ACTIVATION);
    this.targets =
        loss == null
            ? null
            : loss.targetEncoding() == Loss.TargetEncoding.CLASS_INDEX
                ? backend.allocate(Shape.of(batch))
                : backend.allocate(Shape.of(batch, outputColumns));
    this.inputGrad =
        training && wantInputGradient ? buffers.own(input.shape(), BufferPlan.Kind.GRADIENT) : null;
    Node inputNode = model.inputs().get(0);
    // Usually nothing upstream of the first layer needs a gradient, which saves its backward GEMM.
    // The same holds up to the first layer with parameters: a node gets a gradient only when
    // something before it will use it (measured: the MLP's Flatten made its first Dense compute a
    // 128×784 input gradient nobody read, a third of a batch-128 step).
    Map<Node, Boolean> needsGrad = new IdentityHashMap<>();
    needsGrad.put(inputNode, inputGrad != null);
    for (Node n : nodes) {
      boolean wanted = !n.layer().parameters().isEmpty();
      for (Node in : n.inbound()) {
        wanted |= needsGrad.get(in);
      }
      needsGrad.put(n, wanted);
    }
    // The edge that writes each node's gradient in place: its last reader (in topological order,
    // and within that reader its last operand), because that reader runs backward first.
    Map<Node, int[]> writer = new IdentityHashMap<>();
    for (int i = 0; i < nodes.size(); i++) {
      List<Node> ins = nodes.get(i).inbound();
      for (int k = 0; k < ins.size(); k++) {
        writer.put(ins.get(k), new int[] {i, k});
      }
    }
    Map<Node, Tensor> values = new IdentityHashMap<>();
    Map<Node, Tensor> grads = new IdentityHashMap<>();
    values.put(inputNode, input);
    grads.put(inputNode, inputGrad);
    this.runsBackward = new boolean[nodes.size()];
    this.partialGrads = new Tensor[nodes.size()][];
    this.nodeGrads = new Tensor[nodes.size()][];
    for (int i = 0; i < nodes.size(); i++) {
      Node node = nodes.get(i);
      List<Node> ins = node.inbound();
      List<Tensor> xs = new ArrayList<>(ins.size());
      List<Tensor> dxs = new ArrayList<>(ins.size());
      List<Tensor> partial = new ArrayList<>();
      List<Tensor> target = new ArrayList<>();
      for (int k = 0; k < ins.size(); k++) {
        Node in = ins.get(k);
        xs.add(values.get(in));
        Tensor g = grads.get(in);
        if (!training || !needsGrad.get(in) || g == null) {
          dxs.add(null);
        } else if (Arrays.equals(writer.get(in), new int[] {i, k})) {
          dxs.add(g);
        } else {
          Tensor own = buffers.lend(in.shape().withBatch(batch), BufferPlan.Kind.GRADIENT);
          dxs.add(own);
          partial.add(own);
          target.add(g);
        }
      }
      CompileContext ctx =
          new CompileContext(buffers, batch, training, layer -> mix(stepSeed, layer), i);
      LayerStep step = node.layer().compile(ctx, xs, dxs);
      steps.add(step);
      values.put(node, step.output());
      grads.put(node, step.outputGrad());
      runsBackward[i] = training && needsGrad.get(node);
      partialGrads[i] = partial.toArray(new Tensor[0]);
      nodeGrads[i] = target.toArray(new Tensor[0]);
      recordUses(buffers, i, node.layer().backwardReads(), step, xs, dxs, target);
    }
    Node outputNode = model.outputs().get(0);
    if (training && writer.containsKey(outputNode)) {
      throw new IllegalArgumentException(
          "output "
              + outputNode
              + " is also read by other layers; plans take the loss at a final node");
    }
    this.output = values.get(outputNode);
    this.outputGrad = grads.get(outputNode);
    buffers.use(output, buffers.lossTime());
    buffers.use(outputGrad, buffers.lossTime());
    buffers.keep(output); // read after the step: metrics, predictions
    buffers.bind(reuseBuffers);
    this.buffers = buffers;
    this.memory =
        new Memory(
            buffers.bytes(BufferPlan.Kind.ACTIVATION),
            buffers.bytes(BufferPlan.Kind.GRADIENT),
            buffers.sharedBytes(BufferPlan.Kind.ACTIVATION),
            buffers.sharedBytes(BufferPlan.Kind.GRADIENT),
            buffers.allocatedBytes(),
            buffers.livePeakBytes());
  }

  /**
   * Tells the buffer plan when step {@code i} touches which buffer: its forward pass reads the
   * inputs and writes the output; its backward pass (when it runs) reads the output gradient,
   * writes the input gradients and adds the extra ones into their sums, and reads whatever
   * activations the layer says it does.
   */
  private void recordUses(
      BufferPlan buffers,
      int i,
      BackwardReads reads,
      LayerStep step,
      List<Tensor> xs,
      List<Tensor> dxs,
      List<Tensor> sums) {
    int forward = buffers.forwardTime(i), backward = buffers.backwardTime(i);
    for (Tensor x : xs) {
      buffers.use(x, forward);
    }
    buffers.use(step.output(), forward);
    if (!runsBackward[i]) {
      return;
    }
    buffers.use(step.outputGrad(), backward);
    for (Tensor dx : dxs) {
      buffers.use(dx, backward);
    }
    for (Tensor sum : sums) {
      buffers.use(sum, backward);
    }
    if (reads.inputs()) {
      for (Tensor x : xs) {
        buffers.use(x, backward);
      }
    }
    if (reads.output()) {
      buffers.use(step.output(), backward);
    }
  }

  /**
   * The batch-sized buffers of this plan, in bytes. {@code activations} (the input included) and
   * {@code gradients} (the extra buffers of gradient sums included): each buffer in memory of its
   * own, what a plan without reuse allocates. {@code sharedActivations} and {@code
   * sharedGradients}: what each kind takes when buffers whose lifetime has ended lend their memory
   * to later ones of the same kind. {@code allocated}: what this plan holds, where activations and
   * gradients also share (with reuse), or their sum (without). {@code livePeak}: the most bytes in
   * use at once during a step, the floor under any sharing.
   */
  public record Memory(
      long activations,
      long gradients,
      long sharedActivations,
      long sharedGradients,
      long allocated,
      long livePeak) {
    /** What the plan holds: {@link #allocated}. */
    public long total() {
      return allocated;
    }

    /** What the plan would hold without reuse. */
    public long unshared() {
      return activations + gradients;
    }
  }

  public Memory memory() {
    return memory;
  }

  /**
   * For tests: fills the memory of every lent buffer with {@code value} ({@link BufferPlan#fill}).
   */
  void fillLentBuffers(float value) {
    buffers.fill(value);
  }

  /**
   * Whether plans lend the memory of buffers whose lifetime has ended to later ones: yes, unless
   * the system property {@code marrow.plan.reuse} is {@code false}.
   */
  public static boolean reuseBuffersByDefault() {
    return !"false".equalsIgnoreCase(System.getProperty("marrow.plan.reuse"));
  }

  /** A plan that runs forward, loss, backward and optimizer steps. */
  public static Plan forTraining(Graph model, Backend backend, int batch, Loss loss) {
    return forTraining(model, backend, batch, loss, reuseBuffersByDefault());
  }

  /** A training plan whose buffers share memory or not ({@link #reuseBuffersByDefault}). */
  public static Plan forTraining(
      Graph model, Backend backend, int batch, Loss loss, boolean reuseBuffers) {
    return new Plan(model, backend, batch, true, loss, false, reuseBuffers);
  }

  /**
   * A training plan that also computes the gradient of the loss with respect to the input batch
   * ({@link #inputGrad()}), for saliency maps, adversarial examples and layer tests.
   */
  public static Plan forTrainingWithInputGradient(
      Graph model, Backend backend, int batch, Loss loss) {
    return new Plan(model, backend, batch, true, loss, true, reuseBuffersByDefault());
  }

  /** A forward-only plan; loss may be null when only predictions are wanted. */
  public static Plan forInference(Graph model, Backend backend, int batch, Loss loss) {
    return forInference(model, backend, batch, loss, reuseBuffersByDefault());
  }

  /** An inference plan whose buffers share memory or not ({@link #reuseBuffersByDefault}). */
  public static Plan forInference(
      Graph model, Backend backend, int batch, Loss loss, boolean reuseBuffers) {
    return new Plan(model, backend, batch, false, loss, false, reuseBuffers);
  }

  public int batch() {
    return batch;
  }

  public Graph model() {
    return model;
  }

  public Tensor input() {
    return input;
  }

  public Tensor targets() {
    return targets;
  }

  /** d(loss)/d(input) after {@link #computeGradients}, or null unless asked for. */
  public Tensor inputGrad() {
    return inputGrad;
  }

  /** The model's output for the last forward pass: (batch, output shape). */
  public Tensor output() {
    return output;
  }

  /** Mean loss of the last step's batch. */
  public float lastLoss() {
    return lastLoss;
  }

  /** Floats per sample of the output: the columns of {@link #output()} and the dense targets. */
  public int outputColumns() {
    return outputColumns;
  }

  /** Seeds the random layers (dropout) for the next step. */
  public void setStepSeed(long seed) {
    this.stepSeed = seed;
  }

  /**
   * Copies samples {@code order[from .. from+batch)} (samples {@code from ..} when order is null)
   * of a data source into the input buffer and encodes their targets as the loss wants them.
   */
  public void loadBatch(DataSource data, int[] order, int from) {
    if (staging == null
        || !staging.sampleShape().equals(data.sampleShape())
        || !staging.targets().equals(data.targets())) {
      requireInputShape(data.sampleShape());
      staging = data.newBatch(batch);
    }
    data.read(order, from, batch, staging);
    loadBatch(staging);
  }

  /** Copies a batch of exactly this plan's size into the input buffer and the targets. */
  public void loadBatch(Batch b) {
    loadFeatures(b);
    if (targets != null) {
      encodeTargets(b);
    }
  }

  /** Copies a batch's features only (for predictions), exactly this plan's size. */
  public void loadFeatures(Batch b) {
    requireInputShape(b.sampleShape());
    if (b.rows() != batch) {
      throw new IllegalArgumentException(
          "a plan for batches of " + batch + " was handed " + b.rows() + " samples");
    }
    float[] x = input.array();
    System.arraycopy(b.features(), 0, x, 0, x.length);
  }

  private void requireInputShape(Shape sample) {
    if (!sample.equals(model.inputShape())) {
      throw new IllegalArgumentException(
          "data samples have shape " + sample + " but the model expects " + model.inputShape());
    }
  }

  private void encodeTargets(Batch b) {
    Targets kind = b.targets();
    float[] t = targets.array();
    if (loss.targetEncoding() == Loss.TargetEncoding.CLASS_INDEX) {
      if (!kind.isClasses()) {
        throw new IllegalArgumentException(
            loss.name()
                + " takes class labels but the data has "
                + kind
                + "; use a loss for value targets (mean_squared_error, binary_crossentropy, …)");
      }
      requireClassesFit(kind);
      for (int r = 0; r < batch; r++) {
        t[r] = b.labels()[r];
      }
    } else if (kind.isClasses() && outputColumns == 1) {
      // One output unit: binary classification, the label is the target (0 or 1).
      if (kind.classes() > 2) {
        throw new IllegalArgumentException(
            "the model has one output unit but the data has " + kind.classes() + " classes");
      }
      for (int r = 0; r < batch; r++) {
        t[r] = b.labels()[r];
      }
    } else if (kind.isClasses()) {
      requireClassesFit(kind);
      Arrays.fill(t, 0f);
      for (int r = 0; r < batch; r++) {
        t[r * outputColumns + b.labels()[r]] = 1f;
      }
    } else {
      if (kind.valueSize() != outputColumns) {
        throw new IllegalArgumentException(
            "the data's targets have shape "
                + kind.valueShape()
                + " ("
                + kind.valueSize()
                + " values per sample) but the model outputs "
                + model.outputShape()
                + " ("
                + outputColumns
                + ")");
      }
      System.arraycopy(b.values(), 0, t, 0, t.length);
    }
  }

  private void requireClassesFit(Targets kind) {
    if (kind.classes() > outputColumns) {
      throw new IllegalArgumentException(
          "data has " + kind.classes() + " classes but the model outputs " + outputColumns);
    }
  }

  /** Runs the layers forward on the input buffer. */
  public void forward(boolean trainingMode) {
    for (int i = 0; i < steps.size(); i++) {
      steps.get(i).forward(trainingMode);
    }
  }

  /**
   * One training step on the loaded batch: forward, loss and its gradient, backward, then one
   * optimizer update. Returns the batch's mean loss.
   */
  public float trainStep(Optimizer optimizer) {
    float l = computeGradients();
    optimizer.step(backend, parameters);
    return l;
  }

  /**
   * Forward in training mode, loss, and backward: leaves d(mean loss)/d(parameter) in every
   * parameter's {@code grad()} without updating anything (PyTorch's {@code loss.backward()}).
   * Returns the batch's mean loss.
   */
  public float computeGradients() {
    if (!training) {
      throw new IllegalStateException("this plan was compiled for inference");
    }
    forward(true);
    lastLoss = loss.compute(backend, output, targets, outputGrad, batch, outputColumns);
    List<Layer> layers = model.layers();
    for (int i = 0; i < layers.size(); i++) { // indexed: no iterator per step
      lastLoss += layers.get(i).l2Penalty(backend);
    }
    for (int i = steps.size() - 1; i >= 0; i--) { // indexed: no iterator per step
      if (runsBackward[i]) {
        steps.get(i).backward();
        Tensor[] partial = partialGrads[i];
        for (int k = 0; k < partial.length; k++) {
          backend.axpy(1f, partial[k], nodeGrads[i][k]);
        }
      }
    }
    return lastLoss;
  }

  /** Forward in inference mode plus the loss on the loaded batch. */
  public float evaluateStep() {
    forward(false);
    lastLoss = loss.compute(backend, output(), targets, null, batch, outputColumns);
    return lastLoss;
  }

  static long mix(long seed, long salt) {
    long z = seed ^ (salt * 0x9E3779B97F4A7C15L);
    z = (z ^ (z >>> 33)) * 0xFF51AFD7ED558CCDL;
    z = (z ^ (z >>> 33)) * 0xC4CEB9FE1A85EC53L;
    return z ^ (z >>> 33);
  }
}
