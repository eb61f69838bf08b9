package dev.marrow.engine.train;

import dev.marrow.engine.backend.Backend;
import dev.marrow.engine.data.Batch;
import dev.marrow.engine.data.DataSource;
import dev.marrow.engine.data.Targets;
import dev.marrow.engine.loss.Loss;
import dev.marrow.engine.nn.BackwardReads;
import dev.marrow.engine.nn.BufferPlan;
import dev.marrow.engine.nn.CompileContext;
import dev.marrow.engine.nn.Fusion;
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
 * optimizer's slots, which live on them). A model with several inputs gets a buffer per input; one
 * with several outputs a loss per output, their weighted sum (Keras' {@code loss_weights}) the loss
 * backward differentiates.
 */
public final class Plan {
  private final Graph model;
  private final Backend backend;
  private final int batch;
  private final boolean training;

  /** One loss per output (null: a plan for predictions only), and its weight in the total. */
  private final List<Loss> losses;

  private final float[] lossWeights;

  /** Per input node, in the model's order: the batch buffer and (if asked for) its gradient. */
  private final Tensor[] inputs;

  private final Tensor[] inputGrads;

  /** Per output node, in the model's order: its activation, gradient and targets. */
  private final Tensor[] outputs;

  private final Tensor[] outputGrads;
  private final Tensor[] targets;

  /** Floats per sample of each output, the columns its loss sees. */
  private final int[] outputColumns;

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
  private final Memory memory;
  private final BufferPlan buffers;

  private final List<Parameter> parameters;

  /** Where {@link #loadBatch(DataSource, int[], int)} reads to, made on first use. */
  private Batch staging;

  private long stepSeed;
  private float lastLoss;
  private final float[] lastOutputLosses;

  private Plan(
      Graph model,
      Backend backend,
      int batch,
      boolean training,
      List<Loss> losses,
      List<Double> weights,
      boolean wantInputGradient,
      boolean reuseBuffers) {
    if (batch <= 0) {
      throw new IllegalArgumentException("batch size must be positive, got " + batch);
    }
    if (!model.isBuilt()) {
      throw new IllegalStateException("build the model (model.build(seed)) before compiling it");
    }
    this.model = model;
    this.backend = backend;
    this.batch = batch;
    this.training = training;
    List<Node> ins = model.inputs(), outs = model.outputs();
    this.losses = losses == null ? null : requireOnePerOutput(losses, outs);
    this.lossWeights = weightsFor(weights, outs);
    if (training && this.losses == null) {
      throw new IllegalArgumentException("a training plan needs a loss");
    }
    this.parameters = model.parameters();
    List<Node> nodes = model.layerNodes();
    BufferPlan buffers = new BufferPlan(backend, nodes.size());
    this.inputs = new Tensor[ins.size()];
    this.inputGrads = new Tensor[ins.size()];
    Map<Node, Tensor> values = new IdentityHashMap<>();
    Map<Node, Tensor> grads = new IdentityHashMap<>();
    // Usually nothing upstream of the first layer needs a gradient, which saves its backward GEMM.
    // The same holds up to the first layer with parameters: a node gets a gradient only when
    // something before it will use it (measured: the MLP's Flatten made its first Dense compute a
    // 128×784 input gradient nobody read, a third of a batch-128 step).
    Map<Node, Boolean> needsGrad = new IdentityHashMap<>();
    for (int i = 0; i < ins.size(); i++) {
      Shape shape = ins.get(i).shape().withBatch(batch);
      inputs[i] = buffers.own(shape, BufferPlan.Kind.ACTIVATION);
      inputGrads[i] =
          training && wantInputGradient ? buffers.own(shape, BufferPlan.Kind.GRADIENT) : null;
      values.put(ins.get(i), inputs[i]);
      grads.put(ins.get(i), inputGrads[i]);
      needsGrad.put(ins.get(i), inputGrads[i] != null);
    }
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
      List<Node> inbound = nodes.get(i).inbound();
      for (int k = 0; k < inbound.size(); k++) {
        writer.put(inbound.get(k), new int[] {i, k});
      }
    }
    Fusion fusion = new Fusion(nodes, outs); // conv → BN → ReLU: one step for BN and ReLU
    this.runsBackward = new boolean[nodes.size()];
    this.partialGrads = new Tensor[nodes.size()][];
    this.nodeGrads = new Tensor[nodes.size()][];
    for (int i = 0; i < nodes.size(); i++) {
      Node node = nodes.get(i);
      List<Node> inbound = node.inbound();
      List<Tensor> xs = new ArrayList<>(inbound.size());
      List<Tensor> dxs = new ArrayList<>(inbound.size());
      List<Tensor> partial = new ArrayList<>();
      List<Tensor> target = new ArrayList<>();
      for (int k = 0; k < inbound.size(); k++) {
        Node in = inbound.get(k);
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
      LayerStep step = fusion.compile(node, ctx, xs, dxs);
      steps.add(step);
      values.put(node, step.output());
      grads.put(node, step.outputGrad());
      runsBackward[i] = training && needsGrad.get(node);
      partialGrads[i] = partial.toArray(new Tensor[0]);
      nodeGrads[i] = target.toArray(new Tensor[0]);
      recordUses(buffers, i, fusion.backwardReads(node), step, xs, dxs, target);
    }
    this.outputs = new Tensor[outs.size()];
    this.outputGrads = new Tensor[outs.size()];
    this.targets = new Tensor[outs.size()];
    this.outputColumns = new int[outs.size()];
    this.lastOutputLosses = new float[outs.size()];
    for (int j = 0; j < outs.size(); j++) {
      Node out = outs.get(j);
      if (training && writer.containsKey(out)) {
        throw new IllegalArgumentException(
            "output " + out + " is also read by other layers; plans take the loss at a final node");
      }
      if (training && outs.indexOf(out) != j) {
        throw new IllegalArgumentException("output " + out + " is listed twice");
      }
      outputs[j] = values.get(out);
      outputGrads[j] = grads.get(out);
      outputColumns[j] = out.shape().size();
      if (this.losses != null) {
        targets[j] =
            this.losses.get(j).targetEncoding() == Loss.TargetEncoding.CLASS_INDEX
                ? backend.allocate(Shape.of(batch))
                : backend.allocate(Shape.of(batch, outputColumns[j]));
      }
      buffers.use(outputs[j], buffers.lossTime());
      buffers.use(outputGrads[j], buffers.lossTime());
      buffers.keep(outputs[j]); // read after the step: metrics, predictions
    }
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

  private static List<Loss> requireOnePerOutput(List<Loss> losses, List<Node> outputs) {
    if (losses.size() != outputs.size()) {
      throw new IllegalArgumentException(
          losses.size()
              + " losses for "
              + outputs.size()
              + " outputs ("
              + names(outputs)
              + "): give one per output");
    }
    for (int j = 0; j < losses.size(); j++) {
      if (losses.get(j) == null) {
        throw new IllegalArgumentException("no loss for output " + outputs.get(j));
      }
    }
    return List.copyOf(losses);
  }

  /** The weights as floats, all 1 when none are given. */
  private static float[] weightsFor(List<Double> weights, List<Node> outputs) {
    float[] w = new float[outputs.size()];
    Arrays.fill(w, 1f);
    if (weights == null || weights.isEmpty()) {
      return w;
    }
    if (weights.size() != outputs.size()) {
      throw new IllegalArgumentException(
          weights.size()
              + " loss weights for "
              + outputs.size()
              + " outputs ("
              + names(outputs)
              + ")");
    }
    for (int j = 0; j < w.length; j++) {
      Double v = weights.get(j);
      if (v == null || !(v >= 0) || Double.isInfinite(v)) {
        throw new IllegalArgumentException(
            "the loss weight of output " + outputs.get(j) + " must be finite and >= 0, got " + v);
      }
      w[j] = v.floatValue();
    }
    return w;
  }

  private static String names(List<Node> nodes) {
    List<String> parts = new ArrayList<>();
    for (Node n : nodes) {
      parts.add(n.toString());
    }
    return String.join(", ", parts);
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

  /** A plan that runs forward, loss, backward and optimizer steps; the loss is every output's. */
  public static Plan forTraining(Graph model, Backend backend, int batch, Loss loss) {
    return forTraining(model, backend, batch, loss, reuseBuffersByDefault());
  }

  /** A training plan whose buffers share memory or not ({@link #reuseBuffersByDefault}). */
  public static Plan forTraining(
      Graph model, Backend backend, int batch, Loss loss, boolean reuseBuffers) {
    return new Plan(model, backend, batch, true, sameFor(model, loss), null, false, reuseBuffers);
  }

  /**
   * A training plan for a model with several outputs: one loss per output, in the model's output
   * order, and their weights in the total loss (Keras' {@code loss_weights}; null or empty: all 1).
   */
  public static Plan forTraining(
      Graph model, Backend backend, int batch, List<Loss> losses, List<Double> lossWeights) {
    return new Plan(
        model, backend, batch, true, losses, lossWeights, false, reuseBuffersByDefault());
  }

  /**
   * A training plan that also computes the gradient of the loss with respect to the input batch
   * ({@link #inputGrad()}), for saliency maps, adversarial examples and layer tests.
   */
  public static Plan forTrainingWithInputGradient(
      Graph model, Backend backend, int batch, Loss loss) {
    return new Plan(
        model, backend, batch, true, sameFor(model, loss), null, true, reuseBuffersByDefault());
  }

  /** A forward-only plan; loss (every output's) may be null when only predictions are wanted. */
  public static Plan forInference(Graph model, Backend backend, int batch, Loss loss) {
    return forInference(model, backend, batch, loss, reuseBuffersByDefault());
  }

  /** An inference plan whose buffers share memory or not ({@link #reuseBuffersByDefault}). */
  public static Plan forInference(
      Graph model, Backend backend, int batch, Loss loss, boolean reuseBuffers) {
    return new Plan(model, backend, batch, false, sameFor(model, loss), null, false, reuseBuffers);
  }

  /** A forward-only plan evaluating one loss per output, weighted as in training. */
  public static Plan forInference(
      Graph model, Backend backend, int batch, List<Loss> losses, List<Double> lossWeights) {
    return new Plan(
        model, backend, batch, false, losses, lossWeights, false, reuseBuffersByDefault());
  }

  /** Keras' single loss for a model with several outputs: the same loss on each. */
  private static List<Loss> sameFor(Graph model, Loss loss) {
    return loss == null ? null : java.util.Collections.nCopies(model.outputs().size(), loss);
  }

  public int batch() {
    return batch;
  }

  public Graph model() {
    return model;
  }

  /** How many inputs the model takes. */
  public int inputCount() {
    return inputs.length;
  }

  /** How many outputs the model gives. */
  public int outputCount() {
    return outputs.length;
  }

  /** The input buffer of a one-input model: (batch, input shape). */
  public Tensor input() {
    return inputs[single(inputs.length, "inputs", "input(i)")];
  }

  /** Input {@code i}'s buffer, in the model's input order. */
  public Tensor input(int i) {
    return inputs[i];
  }

  /** The targets of a one-output model, encoded as its loss takes them. */
  public Tensor targets() {
    return targets[single(outputs.length, "outputs", "targets(j)")];
  }

  /** Output {@code j}'s targets, encoded as its loss takes them; null without a loss. */
  public Tensor targets(int j) {
    return targets[j];
  }

  /**
   * d(loss)/d(input) of a one-input model after {@link #computeGradients}, or null unless asked
   * for.
   */
  public Tensor inputGrad() {
    return inputGrads[single(inputs.length, "inputs", "inputGrad(i)")];
  }

  /** d(loss)/d(input i), or null unless asked for. */
  public Tensor inputGrad(int i) {
    return inputGrads[i];
  }

  /** A one-output model's output for the last forward pass: (batch, output shape). */
  public Tensor output() {
    return outputs[single(outputs.length, "outputs", "output(j)")];
  }

  /** Output {@code j} for the last forward pass, in the model's output order. */
  public Tensor output(int j) {
    return outputs[j];
  }

  /** Mean loss of the last step's batch: the weighted sum over outputs (plus regularisation). */
  public float lastLoss() {
    return lastLoss;
  }

  /** Output {@code j}'s own mean loss on the last step's batch, before its weight. */
  public float outputLoss(int j) {
    return lastOutputLosses[j];
  }

  /** Floats per sample of a one-output model's output: the columns its loss sees. */
  public int outputColumns() {
    return outputColumns[single(outputs.length, "outputs", "outputColumns(j)")];
  }

  /** Floats per sample of output {@code j}. */
  public int outputColumns(int j) {
    return outputColumns[j];
  }

  private static int single(int count, String what, String instead) {
    if (count != 1) {
      throw new IllegalStateException("the model has " + count + " " + what + ": use " + instead);
    }
    return 0;
  }

  /** Seeds the random layers (dropout) for the next step. */
  public void setStepSeed(long seed) {
    this.stepSeed = seed;
  }

  /**
   * Copies samples {@code order[from .. from+batch)} (samples {@code from ..} when order is null)
   * of a data source into the input buffers and encodes their targets as the losses want them.
   */
  public void loadBatch(DataSource data, int[] order, int from) {
    if (staging == null
        || !staging.sampleShapes().equals(data.inputShapes())
        || !staging.outputTargets().equals(data.outputTargets())) {
      requireInputs(data.inputShapes());
      staging = data.newBatch(batch);
    }
    data.read(order, from, batch, staging);
    loadBatch(staging);
  }

  /** Copies a batch of exactly this plan's size into the input buffers and the targets. */
  public void loadBatch(Batch b) {
    loadFeatures(b);
    if (losses != null) {
      List<Targets> kinds = b.outputTargets();
      if (kinds.size() != outputs.length) {
        throw new IllegalArgumentException(
            "the model gives "
                + outputs.length
                + " outputs ("
                + names(model.outputs())
                + ") but the data has targets for "
                + kinds.size());
      }
      for (int j = 0; j < outputs.length; j++) {
        encodeTargets(b, j);
      }
    }
  }

  /** Copies a batch's features only (for predictions), exactly this plan's size. */
  public void loadFeatures(Batch b) {
    requireInputs(b.sampleShapes());
    if (b.rows() != batch) {
      throw new IllegalArgumentException(
          "a plan for batches of " + batch + " was handed " + b.rows() + " samples");
    }
    for (int i = 0; i < inputs.length; i++) {
      System.arraycopy(b.features(i), 0, inputs[i].array(), 0, inputs[i].size());
    }
  }

  /** Fails unless the data has one part per model input, each of the input's shape. */
  private void requireInputs(List<Shape> samples) {
    List<Node> ins = model.inputs();
    if (samples.size() != ins.size()) {
      throw new IllegalArgumentException(
          "the model takes "
              + ins.size()
              + " inputs ("
              + names(ins)
              + ") but the data has "
              + samples.size()
              + " ("
              + samples.stream()
                  .map(Shape::toString)
                  .collect(java.util.stream.Collectors.joining(", "))
              + ")");
    }
    for (int i = 0; i < ins.size(); i++) {
      if (!samples.get(i).equals(ins.get(i).shape())) {
        throw new IllegalArgumentException(
            ins.size() == 1
                ? "data samples have shape "
                    + samples.get(i)
                    + " but the model expects "
                    + ins.get(i).shape()
                : "input "
                    + (i + 1)
                    + " ("
                    + ins.get(i).label()
                    + ") takes samples of shape "
                    + ins.get(i).shape()
                    + " but the data's have shape "
                    + samples.get(i));
      }
    }
  }

  private void encodeTargets(Batch b, int j) {
    Targets kind = b.outputTargets().get(j);
    Loss loss = losses.get(j);
    int cols = outputColumns[j];
    // A model with several outputs names the one whose data does not fit.
    String where = outputs.length == 1 ? "" : "output " + model.outputs().get(j).label() + ": ";
    float[] t = targets[j].array();
    int[] labels = b.labels(j);
    if (loss.targetEncoding() == Loss.TargetEncoding.CLASS_INDEX) {
      if (!kind.isClasses()) {
        throw new IllegalArgumentException(
            where
                + loss.name()
                + " takes class labels but the data has "
                + kind
                + "; use a loss for value targets (mean_squared_error, binary_crossentropy, …)");
      }
      requireClassesFit(kind, j, where);
      for (int r = 0; r < batch; r++) {
        t[r] = labels[r];
      }
    } else if (kind.isClasses() && cols == 1) {
      // One output unit: binary classification, the label is the target (0 or 1).
      if (kind.classes() > 2) {
        throw new IllegalArgumentException(
            where
                + "the model has one output unit but the data has "
                + kind.classes()
                + " classes");
      }
      for (int r = 0; r < batch; r++) {
        t[r] = labels[r];
      }
    } else if (kind.isClasses()) {
      requireClassesFit(kind, j, where);
      Arrays.fill(t, 0f);
      for (int r = 0; r < batch; r++) {
        t[r * cols + labels[r]] = 1f;
      }
    } else {
      if (kind.valueSize() != cols) {
        throw new IllegalArgumentException(
            where
                + "the data's targets have shape "
                + kind.valueShape()
                + " ("
                + kind.valueSize()
                + " values per sample) but the model outputs "
                + model.outputs().get(j).shape()
                + " ("
                + cols
                + ")");
      }
      System.arraycopy(b.values(j), 0, t, 0, t.length);
    }
  }

  private void requireClassesFit(Targets kind, int j, String where) {
    if (kind.classes() > outputColumns[j]) {
      throw new IllegalArgumentException(
          where
              + "data has "
              + kind.classes()
              + " classes but the model outputs "
              + outputColumns[j]);
    }
  }

  /** Runs the layers forward on the input buffers. */
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
   * Returns the batch's mean loss: the outputs' losses, weighted, plus regularisation.
   */
  public float computeGradients() {
    if (!training) {
      throw new IllegalStateException("this plan was compiled for inference");
    }
    forward(true);
    lastLoss = losses(true);
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
    lastLoss = losses(false);
    return lastLoss;
  }

  /**
   * Each output's loss on the last forward pass (and, with {@code gradients}, its gradient, scaled
   * by the output's weight); returns their weighted sum.
   */
  private float losses(boolean gradients) {
    float total = 0;
    for (int j = 0; j < outputs.length; j++) {
      Tensor d = gradients ? outputGrads[j] : null;
      float l = losses.get(j).compute(backend, outputs[j], targets[j], d, batch, outputColumns[j]);
      lastOutputLosses[j] = l;
      if (lossWeights[j] != 1f) {
        if (d != null) {
          backend.scale(d, lossWeights[j]);
        }
        l *= lossWeights[j];
      }
      total += l;
    }
    return total;
  }

  static long mix(long seed, long salt) {
    long z = seed ^ (salt * 0x9E3779B97F4A7C15L);
    z = (z ^ (z >>> 33)) * 0xFF51AFD7ED558CCDL;
    z = (z ^ (z >>> 33)) * 0xC4CEB9FE1A85EC53L;
    return z ^ (z >>> 33);
  }
}
