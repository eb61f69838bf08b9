package dev.marrow.engine.train;

import dev.marrow.engine.backend.Activation;
import dev.marrow.engine.backend.Backend;
import dev.marrow.engine.data.Batch;
import dev.marrow.engine.data.BatchReader;
import dev.marrow.engine.data.DataSource;
import dev.marrow.engine.loss.Loss;
import dev.marrow.engine.nn.ActivationLayer;
import dev.marrow.engine.nn.Dense;
import dev.marrow.engine.nn.Graph;
import dev.marrow.engine.nn.Layer;
import dev.marrow.engine.nn.Node;
import dev.marrow.engine.tensor.Shape;
import dev.marrow.engine.tensor.Tensor;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Queue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;

/**
 * Runs a built model forward in inference mode, safe from many threads at once, with no optimizer
 * and no loss: Keras' {@code predict}, plus probabilities and top-k classes.
 *
 * <p>Inference plans are compiled lazily per batch size and lent out one caller at a time, so
 * concurrent callers never share activation buffers; the weights are only read. A pool, not a
 * ThreadLocal: per-instance ThreadLocals kept every discarded predictor's plans alive in the
 * caller's threads (SoakTest: 60 MB after 1,200 trainers). Inputs are cut into batches of at most
 * {@link #MAX_BATCH}; results do not depend on the cut.
 */
public final class Predictor {
  /** Largest batch one plan runs; longer inputs are cut into batches of this size. */
  public static final int MAX_BATCH = 500;

  private final Graph model;
  private final Backend backend;
  private final List<Loss> losses;
  private final List<Double> lossWeights;
  private final List<String> classNames;
  private final Map<Integer, Queue<Plan>> plans = new ConcurrentHashMap<>();

  /** A predictor for a built model on {@code backend} (the caller's to close). */
  public Predictor(Graph model, Backend backend) {
    this(model, backend, null, null);
  }

  /** With the losses, so that {@link Trainer#evaluate} can borrow the same plans. */
  Predictor(Graph model, Backend backend, List<Loss> losses, List<Double> lossWeights) {
    if (!model.isBuilt()) {
      throw new IllegalStateException(
          "the model has no weights yet: build, train or load it" + " before predicting");
    }
    this.model = model;
    this.backend = Objects.requireNonNull(backend, "backend");
    this.losses = losses;
    this.lossWeights = lossWeights;
    this.classNames = model.classNames();
  }

  public Graph model() {
    return model;
  }

  public Backend backend() {
    return backend;
  }

  /**
   * The last layer's outputs (logits or probabilities, whatever it produces) for inputs of shape
   * (N, input shape). Returns (N, output shape).
   */
  public Tensor predict(Tensor inputs) {
    Shape in = model.inputShape();
    in.requireBatchOf(inputs.shape(), "predict");
    int count = inputs.shape().dim(0), outputs = model.outputShape().size(), sample = in.size();
    Tensor out = Tensor.zeros(model.outputShape().withBatch(count));
    for (int from = 0; from < count; from += MAX_BATCH) {
      int rows = Math.min(MAX_BATCH, count - from);
      Plan plan = borrow(rows);
      try {
        System.arraycopy(inputs.array(), from * sample, plan.input().array(), 0, rows * sample);
        plan.forward(false);
        System.arraycopy(plan.output().readArray(), 0, out.array(), from * outputs, rows * outputs);
      } finally {
        giveBack(plan);
      }
    }
    return out;
  }

  /**
   * The outputs for every sample of a data source, in its order (targets, if any, are ignored): (N,
   * output shape). Streaming sources are read ahead on another thread. For a one-output model.
   */
  public Tensor predict(DataSource data) {
    requireOneOutput();
    return predictOutputs(data).get(0);
  }

  /**
   * Every output for every sample of a data source (its targets ignored), in the model's output
   * order: (N, output shape) each. Keras' {@code predict} on a model with several outputs.
   */
  public List<Tensor> predictOutputs(DataSource data) {
    int count = data.size();
    List<Tensor> out = newOutputs(count);
    try (BatchReader batches = new BatchReader(data, null, MAX_BATCH, null, null)) {
      for (int s = 0, from = 0; s < batches.steps(); s++) {
        Batch b = batches.next();
        Plan plan = borrow(b.rows());
        try {
          plan.loadFeatures(b);
          plan.forward(false);
          copyOutputs(plan, out, from, b.rows());
          from += b.rows();
        } finally {
          giveBack(plan);
        }
      }
    }
    return out;
  }

  /**
   * The outputs for inputs of shape (N, input shape) each, one tensor per model input in its order:
   * (N, output shape) per output. Keras' {@code predict([x1, x2])}.
   */
  public List<Tensor> predict(List<Tensor> inputs) {
    List<Node> ins = model.inputs();
    if (inputs.size() != ins.size()) {
      throw new IllegalArgumentException(
          "the model takes " + ins.size() + " inputs but was handed " + inputs.size());
    }
    int count = -1;
    for (int i = 0; i < ins.size(); i++) {
      Shape given = inputs.get(i).shape();
      ins.get(i).shape().requireBatchOf(given, "predict (input " + ins.get(i).label() + ")");
      if (count >= 0 && given.dim(0) != count) {
        throw new IllegalArgumentException(
            "input 1 holds " + count + " samples but input " + (i + 1) + " holds " + given.dim(0));
      }
      count = given.dim(0);
    }
    List<Tensor> out = newOutputs(count);
    for (int from = 0; from < count; from += MAX_BATCH) {
      int rows = Math.min(MAX_BATCH, count - from);
      Plan plan = borrow(rows);
      try {
        for (int i = 0; i < ins.size(); i++) {
          int sample = ins.get(i).shape().size();
          System.arraycopy(
              inputs.get(i).readArray(), from * sample, plan.input(i).array(), 0, rows * sample);
        }
        plan.forward(false);
        copyOutputs(plan, out, from, rows);
      } finally {
        giveBack(plan);
      }
    }
    return out;
  }

  private List<Tensor> newOutputs(int count) {
    List<Tensor> out = new ArrayList<>();
    for (Node n : model.outputs()) {
      out.add(Tensor.zeros(n.shape().withBatch(count)));
    }
    return out;
  }

  private static void copyOutputs(Plan plan, List<Tensor> out, int from, int rows) {
    for (int j = 0; j < out.size(); j++) {
      int per = plan.outputColumns(j);
      System.arraycopy(plan.output(j).readArray(), 0, out.get(j).array(), from * per, rows * per);
    }
  }

  private void requireOneOutput() {
    if (model.outputs().size() != 1) {
      throw new IllegalStateException(
          "the model has " + model.outputs().size() + " outputs: use predictOutputs");
    }
  }

  /** Class probabilities for every sample of a data source, as {@link #predictProbabilities}. */
  public Tensor predictProbabilities(DataSource data) {
    requireClassifier();
    return probabilities(predict(data));
  }

  /**
   * Class probabilities, (N, classes): the softmax of the outputs, or the outputs themselves when
   * the last layer already ends in a softmax.
   */
  public Tensor predictProbabilities(Tensor inputs) {
    requireClassifier();
    return probabilities(predict(inputs));
  }

  /** The outputs as probabilities, in place: softmax unless the model ends in one. */
  private Tensor probabilities(Tensor out) {
    if (!endsInSoftmax()) {
      softmaxRows(out.array(), out.shape().dim(0), out.shape().dim(-1));
    }
    return out;
  }

  /**
   * Each sample's {@code k} most probable classes, most probable first, named by the model's class
   * names when it has them.
   */
  public List<List<Classification>> classify(Tensor inputs, int k) {
    requireClassifier();
    int classes = model.outputShape().dim(-1);
    if (k < 1 || k > classes) {
      throw new IllegalArgumentException("k must be in 1.." + classes + ", got " + k);
    }
    Tensor p = predictProbabilities(inputs);
    float[] v = p.array();
    int n = p.shape().dim(0);
    List<List<Classification>> all = new ArrayList<>(n);
    for (int r = 0; r < n; r++) {
      List<Classification> top = new ArrayList<>(k);
      boolean[] taken = new boolean[classes];
      for (int t = 0; t < k; t++) {
        int best = -1;
        for (int c = 0; c < classes; c++) { // ties go to the lower index, as argmax does
          if (!taken[c] && (best < 0 || v[r * classes + c] > v[r * classes + best])) {
            best = c;
          }
        }
        taken[best] = true;
        top.add(new Classification(best, className(best), v[r * classes + best]));
      }
      all.add(List.copyOf(top));
    }
    return List.copyOf(all);
  }

  /** The name of class {@code index}: the model's class name, else the index. */
  public String className(int index) {
    return classNames.isEmpty() ? Integer.toString(index) : classNames.get(index);
  }

  Plan borrow(int batch) {
    Plan plan = plans.computeIfAbsent(batch, b -> new ConcurrentLinkedQueue<>()).poll();
    return plan != null ? plan : Plan.forInference(model, backend, batch, losses, lossWeights);
  }

  void giveBack(Plan plan) {
    plans.get(plan.batch()).offer(plan);
  }

  private void requireClassifier() {
    if (model.outputShape().rank() != 1) {
      throw new IllegalStateException(
          "probabilities need an output of shape (classes), but the"
              + " model outputs "
              + model.outputShape());
    }
  }

  private boolean endsInSoftmax() {
    List<Layer> layers = model.layers();
    Layer last = layers.get(layers.size() - 1);
    Activation a =
        last instanceof Dense d
            ? d.activation()
            : last instanceof ActivationLayer al ? al.activation() : null;
    return a == Activation.SOFTMAX;
  }

  /** Row-wise softmax in place, in double, shifted by the row's maximum. */
  private static void softmaxRows(float[] v, int n, int classes) {
    for (int r = 0; r < n; r++) {
      int o = r * classes;
      float max = Float.NEGATIVE_INFINITY;
      for (int c = 0; c < classes; c++) {
        max = Math.max(max, v[o + c]);
      }
      double sum = 0;
      for (int c = 0; c < classes; c++) {
        sum += Math.exp(v[o + c] - max);
      }
      for (int c = 0; c < classes; c++) {
        v[o + c] = (float) (Math.exp(v[o + c] - max) / sum);
      }
    }
  }
}
