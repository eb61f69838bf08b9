package dev.marrow.engine.train;

import dev.marrow.engine.backend.Backend;
import dev.marrow.engine.data.Batch;
import dev.marrow.engine.data.BatchReader;
import dev.marrow.engine.data.DataSource;
import dev.marrow.engine.data.Targets;
import dev.marrow.engine.loss.Loss;
import dev.marrow.engine.metrics.Metric;
import dev.marrow.engine.metrics.Metrics;
import dev.marrow.engine.nn.Graph;
import dev.marrow.engine.optim.Optimizer;
import dev.marrow.engine.tensor.Tensor;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * Fits, evaluates and runs a model on one backend: Keras' {@code fit / evaluate / predict}; {@code
 * predict} and {@code evaluate} are safe to call from many threads at once. Plans are compiled
 * lazily per batch size and kept, so a data set whose size is not a multiple of the batch size runs
 * its last, smaller batch through a second plan that shares the parameters.
 */
public final class Trainer {
  /** Batch size used for evaluation and prediction; results do not depend on it. */
  public static final int EVAL_BATCH = Predictor.MAX_BATCH;

  private final Graph model;
  private final Optimizer optimizer;

  /** One loss per output, in the model's output order, and each one's weight in the total. */
  private final List<Loss> losses;

  private final List<Double> lossWeights;
  private final Backend backend;
  private final List<dev.marrow.engine.nn.Parameter> parameters;
  private final Map<Integer, Plan> trainingPlans = new HashMap<>();

  /** Metrics by name per output (resolved per fit), or given as objects, or neither (defaults). */
  private final List<List<String>> metricNames;

  private final List<Metric> metrics;

  /** Lends inference plans (with the losses, for evaluate) to many threads at once. */
  private final Predictor predictor;

  public Trainer(Graph model, Optimizer optimizer, Loss loss, Backend backend) {
    this(model, optimizer, loss, backend, null);
  }

  /**
   * With metrics by Keras name ({@code accuracy}, {@code mae}, {@code auc}, …), resolved against
   * the loss; null for the defaults. A model with several outputs takes the loss and the metrics on
   * each of them, as Keras does.
   */
  public Trainer(
      Graph model, Optimizer optimizer, Loss loss, Backend backend, List<String> metricNames) {
    this(
        built(model),
        optimizer,
        java.util.Collections.nCopies(built(model).outputs().size(), loss),
        null,
        backend,
        metricNames == null
            ? null
            : java.util.Collections.nCopies(model.outputs().size(), List.copyOf(metricNames)),
        null);
  }

  /**
   * Keras' {@code compile(loss=[…], loss_weights=[…], metrics={…})} for a model with several
   * outputs: a loss per output in the model's output order, their weights in the total loss (null
   * or empty: all 1), and metrics by Keras name per output name (null for the defaults; an output
   * left out gets none). Logs name each output's loss and metrics after it: {@code out1_loss},
   * {@code out1_accuracy}.
   */
  public Trainer(
      Graph model,
      Optimizer optimizer,
      List<Loss> losses,
      List<Double> lossWeights,
      Backend backend,
      Map<String, List<String>> metricNames) {
    this(
        built(model),
        optimizer,
        losses,
        lossWeights,
        backend,
        metricNames == null ? null : metricsByOutput(built(model), metricNames),
        null);
  }

  private Trainer(
      Graph model,
      Optimizer optimizer,
      List<Loss> losses,
      List<Double> lossWeights,
      Backend backend,
      List<List<String>> metricNames,
      List<Metric> metrics) {
    this.model = model;
    this.optimizer = optimizer;
    this.losses = List.copyOf(losses);
    this.lossWeights = lossWeights == null ? List.of() : List.copyOf(lossWeights);
    this.backend = backend;
    if (this.losses.size() != model.outputs().size()) {
      throw new IllegalArgumentException(
          this.losses.size()
              + " losses for a model with "
              + model.outputs().size()
              + " outputs: give one per output");
    }
    this.metricNames = metricNames;
    this.metrics = metrics;
    this.parameters = model.parameters();
    optimizer.attach(backend, parameters);
    this.predictor = new Predictor(model, backend, this.losses, this.lossWeights);
    if (metricNames != null) {
      for (int j = 0; j < this.losses.size(); j++) { // unknown names fail now
        Metrics.byNames(metricNames.get(j), this.losses.get(j), outputUnits(j));
      }
    }
  }

  private static Graph built(Graph model) {
    if (!model.isBuilt()) {
      model.build(42);
    }
    return model;
  }

  /** Metric names per output, in output order, from a map keyed by output name. */
  private static List<List<String>> metricsByOutput(Graph model, Map<String, List<String>> byName) {
    List<String> names = outputNames(model);
    for (String key : byName.keySet()) {
      if (!names.contains(key)) {
        throw new IllegalArgumentException(
            "metrics for '" + key + "', which is not an output; the outputs are " + names);
      }
    }
    List<List<String>> out = new ArrayList<>();
    for (String n : names) {
      out.add(List.copyOf(byName.getOrDefault(n, List.of())));
    }
    return out;
  }

  /** The outputs' names, as logs and loss maps know them: their layers' names. */
  public static List<String> outputNames(Graph model) {
    List<String> names = new ArrayList<>();
    for (dev.marrow.engine.nn.Node n : model.outputs()) {
      names.add(n.label());
    }
    return names;
  }

  /** With metric objects (a user's own included), on every output; an empty list for none. */
  public static Trainer withMetrics(
      Graph model, Optimizer optimizer, Loss loss, Backend backend, List<Metric> metrics) {
    return new Trainer(
        built(model),
        optimizer,
        java.util.Collections.nCopies(model.outputs().size(), loss),
        null,
        backend,
        null,
        List.copyOf(metrics));
  }

  public Graph model() {
    return model;
  }

  public Optimizer optimizer() {
    return optimizer;
  }

  /** The loss of a one-output model. */
  public Loss loss() {
    if (losses.size() != 1) {
      throw new IllegalStateException(
          "the model has " + losses.size() + " outputs, each with its loss: use losses()");
    }
    return losses.get(0);
  }

  /** Each output's loss, in the model's output order. */
  public List<Loss> losses() {
    return losses;
  }

  /** Each output's weight in the total loss; empty when all are 1. */
  public List<Double> lossWeights() {
    return lossWeights;
  }

  public Backend backend() {
    return backend;
  }

  private int outputUnits(int j) {
    return model.outputs().get(j).shape().size();
  }

  /**
   * The metrics this trainer reports for data with these targets: the compiled ones, or the
   * defaults (accuracy for class labels and classification losses, none for regression). For a
   * one-output model.
   */
  public List<Metric> metricsFor(Targets targets) {
    return metricsFor(0, targets);
  }

  private List<Metric> metricsFor(int j, Targets targets) {
    if (metricNames != null) {
      return Metrics.byNames(metricNames.get(j), losses.get(j), outputUnits(j));
    }
    return metrics != null
        ? metrics
        : Metrics.defaults(losses.get(j), outputUnits(j), targets.isClasses());
  }

  /**
   * Every output's metrics for data with these targets, flattened in output order; with several
   * outputs each is renamed after its output ({@code out1_accuracy}). {@code outputOf[i]} receives
   * the output metric i measures.
   */
  private List<Metric> metricsFor(List<Targets> targets, List<Integer> outputOf) {
    if (targets.size() != losses.size()) {
      throw new IllegalArgumentException(
          "the model gives "
              + losses.size()
              + " outputs ("
              + String.join(", ", outputNames(model))
              + ") but the data has targets for "
              + targets.size());
    }
    List<Metric> all = new ArrayList<>();
    List<String> names = outputNames(model);
    for (int j = 0; j < losses.size(); j++) {
      for (Metric m : metricsFor(j, targets.get(j))) {
        all.add(losses.size() == 1 ? m : new OutputMetric(names.get(j) + "_" + m.name(), m));
        outputOf.add(j);
      }
    }
    return all;
  }

  /** A metric of one of several outputs, named after it as Keras names it. */
  private record OutputMetric(String name, Metric metric) implements Metric {
    @Override
    public boolean higherIsBetter() {
      return metric.higherIsBetter();
    }

    @Override
    public Accumulator newAccumulator() {
      return metric.newAccumulator();
    }
  }

  public History fit(DataSource data, FitOptions options) {
    DataSource train = data;
    DataSource validation = options.validationData();
    if (options.validationSplit() > 0) {
      int held = (int) Math.floor(data.size() * options.validationSplit());
      if (held == 0 || held == data.size()) {
        throw new IllegalArgumentException(
            "validation split "
                + options.validationSplit()
                + " of "
                + data.size()
                + " samples leaves no training or no validation data");
      }
      train = data.range(0, data.size() - held);
      validation = data.range(data.size() - held, data.size());
    }
    int n = train.size();
    if (n == 0) {
      throw new IllegalArgumentException("the training data is empty");
    }
    int batch = Math.min(options.batchSize(), n);
    int steps = (n + batch - 1) / batch;
    List<Integer> metricOutputs = new ArrayList<>();
    List<Metric> epochMetrics = metricsFor(train.outputTargets(), metricOutputs);
    int[] outputOf = metricOutputs.stream().mapToInt(Integer::intValue).toArray();
    BatchLogs running = new BatchLogs(epochMetrics);
    int outputs = losses.size();
    List<Callback> callbacks = options.callbacks();
    TrainingContext ctx = new TrainingContext(model, optimizer, options.epochs(), steps, n);
    History history = new History();
    int[] order = new int[n];
    for (Callback c : callbacks) {
      c.onTrainBegin(ctx);
    }
    for (int epoch = options.initialEpoch() + 1;
        epoch <= options.epochs() && !ctx.stopRequested();
        epoch++) {
      for (Callback c : callbacks) {
        c.onEpochBegin(ctx, epoch);
      }
      long start = System.nanoTime();
      for (int i = 0; i < n; i++) {
        order[i] = i;
      }
      if (options.shuffle()) {
        shuffle(order, new SplittableRandom(Plan.mix(options.seed(), epoch)));
      }
      Metric.Accumulator[] acc = accumulators(epochMetrics);
      running.reset(acc);
      double lossSum = 0;
      double[] outputLossSums = new double[outputs];
      long augmentSeed = Plan.mix(options.seed() ^ 0x5DEECE66DL, epoch);
      try (BatchReader batches =
          new BatchReader(
              train,
              order,
              batch,
              options.augmentation(),
              step -> new SplittableRandom(Plan.mix(augmentSeed, step)))) {
        for (int s = 0; s < steps; s++) {
          Batch b = batches.next();
          int rows = b.rows();
          Plan plan = trainingPlan(rows);
          plan.loadBatch(b);
          plan.setStepSeed(Plan.mix(options.seed(), (long) epoch << 32 | s));
          float stepLoss = plan.computeGradients();
          if (!Float.isFinite(stepLoss)) {
            // Stop before the update spreads it into the weights: they stay as they were.
            throw new TrainingDivergedException(epoch, s, stepLoss, firstNonFiniteGradient());
          }
          optimizer.step(backend, parameters);
          lossSum += (double) stepLoss * rows;
          for (int j = 0; outputs > 1 && j < outputs; j++) {
            outputLossSums[j] += (double) plan.outputLoss(j) * rows;
          }
          update(acc, outputOf, plan, rows);
          running.setLoss(lossSum / (s * batch + rows));
          for (Callback c : callbacks) {
            c.onBatchEnd(ctx, s, running);
          }
        }
      }
      double seconds = (System.nanoTime() - start) / 1e9;
      Map<String, Double> logs = new LinkedHashMap<>();
      logs.put("loss", lossSum / n);
      putOutputLosses(logs, outputLossSums, n);
      for (int i = 0; i < acc.length; i++) {
        logs.put(epochMetrics.get(i).name(), acc[i].result());
      }
      if (validation != null) {
        Evaluation v = evaluate(validation);
        logs.put("val_loss", v.loss());
        v.metrics().forEach((k, value) -> logs.put("val_" + k, value));
      }
      EpochStats stats =
          new EpochStats(epoch, logs, seconds, n / seconds, optimizer.learningRate());
      history.add(stats);
      for (Callback c : callbacks) {
        c.onEpochEnd(ctx, stats);
      }
    }
    for (Callback c : callbacks) {
      c.onTrainEnd(ctx, history);
    }
    return history;
  }

  private static Metric.Accumulator[] accumulators(List<Metric> metrics) {
    Metric.Accumulator[] acc = new Metric.Accumulator[metrics.size()];
    for (int i = 0; i < acc.length; i++) {
      acc[i] = metrics.get(i).newAccumulator();
    }
    return acc;
  }

  private void update(Metric.Accumulator[] acc, int[] outputOf, Plan plan, int rows) {
    for (int i = 0; i < acc.length; i++) {
      int j = outputOf[i];
      acc[i].update(
          backend,
          plan.output(j),
          plan.targets(j),
          losses.get(j).targetEncoding(),
          rows,
          plan.outputColumns(j));
    }
  }

  /** Each output's mean loss as Keras logs it, {@code out1_loss}, for a model with several. */
  private void putOutputLosses(Map<String, Double> logs, double[] sums, int samples) {
    if (sums.length > 1) {
      List<String> names = outputNames(model);
      for (int j = 0; j < sums.length; j++) {
        logs.put(names.get(j) + "_loss", sums[j] / samples);
      }
    }
  }

  private String firstNonFiniteGradient() {
    for (int i = parameters.size() - 1; i >= 0; i--) {
      for (float g : parameters.get(i).grad().readArray()) {
        if (!Float.isFinite(g)) {
          return parameters.get(i).name();
        }
      }
    }
    return null;
  }

  /** Mean loss and the metrics over a data source, in inference mode. Thread-safe. */
  public Evaluation evaluate(DataSource data) {
    if (data.size() == 0) {
      throw new IllegalArgumentException("the evaluation data is empty");
    }
    List<Integer> metricOutputs = new ArrayList<>();
    List<Metric> evalMetrics = metricsFor(data.outputTargets(), metricOutputs);
    int[] outputOf = metricOutputs.stream().mapToInt(Integer::intValue).toArray();
    Metric.Accumulator[] acc = accumulators(evalMetrics);
    double lossSum = 0;
    double[] outputLossSums = new double[losses.size()];
    try (BatchReader batches = new BatchReader(data, null, EVAL_BATCH, null, null)) {
      for (int s = 0; s < batches.steps(); s++) {
        Batch b = batches.next();
        Plan plan = predictor.borrow(b.rows());
        try {
          plan.loadBatch(b);
          lossSum += (double) plan.evaluateStep() * b.rows();
          for (int j = 0; j < outputLossSums.length; j++) {
            outputLossSums[j] += (double) plan.outputLoss(j) * b.rows();
          }
          update(acc, outputOf, plan, b.rows());
        } finally {
          predictor.giveBack(plan);
        }
      }
    }
    Map<String, Double> values = new LinkedHashMap<>();
    putOutputLosses(values, outputLossSums, data.size());
    for (int i = 0; i < acc.length; i++) {
      values.put(evalMetrics.get(i).name(), acc[i].result());
    }
    return new Evaluation(lossSum / data.size(), values, data.size());
  }

  /**
   * The model's outputs for a batch of inputs of shape (N, input shape): logits or probabilities,
   * whatever the last layer produces. Returns (N, output shape).
   */
  public Tensor predict(Tensor inputs) {
    return predictor.predict(inputs);
  }

  /** The thread-safe predictor over this trainer's model and backend. */
  public Predictor predictor() {
    return predictor;
  }

  private Plan trainingPlan(int batch) {
    return trainingPlans.computeIfAbsent(
        batch, b -> Plan.forTraining(model, backend, b, losses, lossWeights));
  }

  private static void shuffle(int[] a, SplittableRandom random) {
    for (int i = a.length - 1; i > 0; i--) {
      int j = random.nextInt(i + 1);
      int t = a[i];
      a[i] = a[j];
      a[j] = t;
    }
  }
}
