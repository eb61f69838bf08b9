package dev.marrow.engine.train;

import dev.marrow.engine.backend.Backend;
import dev.marrow.engine.data.Dataset;
import dev.marrow.engine.loss.Loss;
import dev.marrow.engine.nn.CompileContext;
import dev.marrow.engine.nn.Layer;
import dev.marrow.engine.nn.LayerStep;
import dev.marrow.engine.nn.Parameter;
import dev.marrow.engine.nn.Sequential;
import dev.marrow.engine.optim.Optimizer;
import dev.marrow.engine.tensor.Shape;
import dev.marrow.engine.tensor.Tensor;
import java.util.ArrayList;
import java.util.List;

/**
 * A model compiled for one backend and one batch size: every activation, gradient and workspace
 * buffer is allocated here, once, so that a step only runs kernels. Plans for different batch sizes
 * of the same model share its parameters (and the optimizer's slots, which live on them).
 */
public final class Plan {
  private final Sequential model;
  private final Backend backend;
  private final int batch;
  private final boolean training;
  private final Loss loss;
  private final Tensor input;
  private final Tensor targets;
  private final Tensor inputGrad;
  private final List<LayerStep> steps = new ArrayList<>();

  /** Index of the first layer whose backward pass is needed (see the constructor). */
  private final int firstBackward;

  private final List<Parameter> parameters;
  private final int classes;
  private long stepSeed;
  private float lastLoss;
  private int lastCorrect;

  private Plan(
      Sequential model,
      Backend backend,
      int batch,
      boolean training,
      Loss loss,
      boolean wantInputGradient) {
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
    this.loss = loss;
    this.parameters = model.parameters();
    Shape out = model.outputShape();
    this.classes = out.dim(-1);
    this.input = backend.allocate(model.inputShape().withBatch(batch));
    this.targets =
        loss == null
            ? null
            : loss.targetEncoding() == Loss.TargetEncoding.CLASS_INDEX
                ? backend.allocate(Shape.of(batch))
                : backend.allocate(Shape.of(batch, classes));
    CompileContext ctx =
        new CompileContext(backend, batch, training, layerIndex -> mix(stepSeed, layerIndex));
    // Usually nothing upstream of the first layer needs a gradient, which saves its backward GEMM.
    // The same holds up to the first layer with parameters: a layer gets an input gradient to
    // write only when something before it will use it (measured: the MLP's Flatten made its first
    // Dense compute a 128×784 input gradient nobody read, a third of a batch-128 step).
    this.inputGrad = training && wantInputGradient ? backend.allocate(input.shape()) : null;
    boolean gradientWanted = inputGrad != null;
    int first = -1;
    Tensor x = input;
    Tensor dx = inputGrad;
    List<Layer> layers = model.layers();
    for (int i = 0; i < layers.size(); i++) {
      Layer layer = layers.get(i);
      LayerStep step = layer.compile(ctx, x, gradientWanted ? dx : null);
      steps.add(step);
      if (first < 0 && (gradientWanted || !layer.parameters().isEmpty())) {
        first = i;
      }
      gradientWanted |= !layer.parameters().isEmpty();
      x = step.output();
      dx = step.outputGrad();
    }
    this.firstBackward = first < 0 ? steps.size() : first;
  }

  /** A plan that runs forward, loss, backward and optimizer steps. */
  public static Plan forTraining(Sequential model, Backend backend, int batch, Loss loss) {
    return new Plan(model, backend, batch, true, loss, false);
  }

  /**
   * A training plan that also computes the gradient of the loss with respect to the input batch
   * ({@link #inputGrad()}), for saliency maps, adversarial examples and layer tests.
   */
  public static Plan forTrainingWithInputGradient(
      Sequential model, Backend backend, int batch, Loss loss) {
    return new Plan(model, backend, batch, true, loss, true);
  }

  /** A forward-only plan; loss may be null when only predictions are wanted. */
  public static Plan forInference(Sequential model, Backend backend, int batch, Loss loss) {
    return new Plan(model, backend, batch, false, loss, false);
  }

  public int batch() {
    return batch;
  }

  public Sequential model() {
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

  /** The model's output for the last forward pass: (batch, classes). */
  public Tensor output() {
    return steps.getLast().output();
  }

  /** Mean loss of the last step's batch. */
  public float lastLoss() {
    return lastLoss;
  }

  /** Correct predictions in the last step's batch. */
  public int lastCorrect() {
    return lastCorrect;
  }

  /** Seeds the random layers (dropout) for the next step. */
  public void setStepSeed(long seed) {
    this.stepSeed = seed;
  }

  /**
   * Copies samples {@code order[from .. from+batch)} of a data set into the input buffer and
   * encodes their labels as the loss wants them.
   */
  public void loadBatch(Dataset data, int[] order, int from) {
    if (!data.sampleShape().equals(model.inputShape())) {
      throw new IllegalArgumentException(
          "data samples have shape "
              + data.sampleShape()
              + " but the model expects "
              + model.inputShape());
    }
    if (data.classes() > classes) {
      throw new IllegalArgumentException(
          "data has " + data.classes() + " classes but the model outputs " + classes);
    }
    float[] t = targets == null ? null : targets.array();
    boolean oneHot = loss != null && loss.targetEncoding() == Loss.TargetEncoding.ONE_HOT;
    if (oneHot) {
      java.util.Arrays.fill(t, 0f);
    }
    for (int r = 0; r < batch; r++) {
      int i = order == null ? from + r : order[from + r];
      data.copySample(i, input, r);
      if (t != null) {
        if (oneHot) {
          t[r * classes + data.label(i)] = 1f;
        } else {
          t[r] = data.label(i);
        }
      }
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
    LayerStep last = steps.getLast();
    lastLoss = loss.compute(backend, last.output(), targets, last.outputGrad(), batch, classes);
    lastCorrect = loss.countCorrect(backend, last.output(), targets, batch, classes);
    List<Layer> layers = model.layers();
    for (int i = 0; i < layers.size(); i++) { // indexed: no iterator per step
      lastLoss += layers.get(i).l2Penalty(backend);
    }
    for (int i = steps.size() - 1; i >= firstBackward; i--) {
      steps.get(i).backward();
    }
    return lastLoss;
  }

  /** Forward in inference mode plus loss and accuracy on the loaded batch. */
  public float evaluateStep() {
    forward(false);
    Tensor out = output();
    lastLoss = loss.compute(backend, out, targets, null, batch, classes);
    lastCorrect = loss.countCorrect(backend, out, targets, batch, classes);
    return lastLoss;
  }

  static long mix(long seed, long salt) {
    long z = seed ^ (salt * 0x9E3779B97F4A7C15L);
    z = (z ^ (z >>> 33)) * 0xFF51AFD7ED558CCDL;
    z = (z ^ (z >>> 33)) * 0xC4CEB9FE1A85EC53L;
    return z ^ (z >>> 33);
  }
}
