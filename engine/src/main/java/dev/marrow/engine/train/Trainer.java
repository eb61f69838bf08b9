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
  private final Loss loss;
  private final Backend backend;
  private final List<dev.marrow.engine.nn.Parameter> parameters;
  private final Map<Integer, Plan> trainingPlans = new HashMap<>();

  /** Metrics by name (resolved per fit), or given as objects, or neither (the defaults). */
  private final List<String> metricNames;

  private final List<Metric> metrics;

  /** Lends inference plans (with the loss, for evaluate) to many threads at once. */
  private final Predictor predictor;

  public Trainer(Graph model, Optimizer optimizer, Loss loss, Backend backend) {
    this(model, optimizer, loss, backend, null, null);
  }

  /**
   * With metrics by Keras name ({@code accuracy}, {@code mae}, {@code auc}, …), resolved against
   * the loss; null for the defaults.
   */
  public Trainer(
      Graph model, Optimizer optimizer, Loss loss, Backend backend, List<String> metricNames) {
    this(model, optimizer, loss, backend, metricNames, null);
  }

  private Trainer(
      Graph model,
      Optimizer optimizer,
      Loss loss,
      Backend backend,
      List<String> metricNames,
      List<Metric> metrics) {
    this.metricNames = metricNames == null ? null : List.copyOf(metricNames);
    this.metrics = metrics;
    this.model = model;
    this.optimizer = optimizer;
    this.loss = loss;
    this.backend = backend;
    if (!model.isBuilt()) {
      model.build(42);
    }
    this.parameters = model.parameters();
    optimizer.attach(backend, parameters);
    this.predictor = new Predictor(model, backend, loss);
    if (metricNames != null) {
      Metrics.byNames(metricNames, loss, model.outputShape().size()); // unknown names fail now
    }
  }

  /** With metric objects (a user's own included); an empty list for none. */
  public static Trainer withMetrics(
      Graph model, Optimizer optimizer, Loss loss, Backend backend, List<Metric> metrics) {
    return new Trainer(model, optimizer, loss, backend, null, List.copyOf(metrics));
  }

  public Graph model() {
    return model;
  }

  public Optimizer optimizer() {
    return optimizer;
  }

  public Loss loss() {
    return loss;
  }

  public Backend backend() {
    return backend;
  }

  /**
   * The metrics this trainer reports for data with these targets: the compiled ones, or the
   * defaults (accuracy for class labels and classification losses, none for regression).
   */
  public List<Metric> metricsFor(Targets targets) {
    int units = model.outputShape().size();
    if (metricNames != null) {
      return Metrics.byNames(metricNames, loss, units);
    }
    return metrics != null ? metrics : Metrics.defaults(loss, units, targets.isClasses());
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
    List<Metric> epochMetrics = metricsFor(train.targets());
    BatchLogs running = new BatchLogs(epochMetrics);
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
          update(acc, plan, rows);
          running.setLoss(lossSum / (s * batch + rows));
          for (Callback c : callbacks) {
            c.onBatchEnd(ctx, s, running);
          }
        }
      }
      double seconds = (System.nanoTime() - start) / 1e9;
      Map<String, Double> logs = new LinkedHashMap<>();
      logs.put("loss", lossSum / n);
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

  private void update(Metric.Accumulator[] acc, Plan plan, int rows) {
    for (Metric.Accumulator a : acc) {
      a.update(
          backend,
          plan.output(),
          plan.targets(),
          loss.targetEncoding(),
          rows,
          plan.outputColumns());
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
    List<Metric> evalMetrics = metricsFor(data.targets());
    Metric.Accumulator[] acc = accumulators(evalMetrics);
    double lossSum = 0;
    try (BatchReader batches = new BatchReader(data, null, EVAL_BATCH, null, null)) {
      for (int s = 0; s < batches.steps(); s++) {
        Batch b = batches.next();
        Plan plan = predictor.borrow(b.rows());
        try {
          plan.loadBatch(b);
          lossSum += (double) plan.evaluateStep() * b.rows();
          update(acc, plan, b.rows());
        } finally {
          predictor.giveBack(plan);
        }
      }
    }
    Map<String, Double> values = new LinkedHashMap<>();
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
    return trainingPlans.computeIfAbsent(batch, b -> Plan.forTraining(model, backend, b, loss));
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
