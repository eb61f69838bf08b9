package dev.marrow.engine.train;

import dev.marrow.engine.backend.Backend;
import dev.marrow.engine.data.Dataset;
import dev.marrow.engine.loss.Loss;
import dev.marrow.engine.nn.Graph;
import dev.marrow.engine.optim.Optimizer;
import dev.marrow.engine.tensor.Tensor;
import java.util.HashMap;
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

  /** Lends inference plans (with the loss, for evaluate) to many threads at once. */
  private final Predictor predictor;

  public Trainer(Graph model, Optimizer optimizer, Loss loss, Backend backend) {
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

  public History fit(Dataset data, FitOptions options) {
    Dataset train = data;
    Dataset validation = options.validationData();
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
      train = data.slice(0, data.size() - held);
      validation = data.slice(data.size() - held, data.size());
    }
    int n = train.size();
    int batch = Math.min(options.batchSize(), n);
    int steps = (n + batch - 1) / batch;
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
      double lossSum = 0;
      long correct = 0;
      for (int s = 0; s < steps; s++) {
        int from = s * batch, rows = Math.min(batch, n - from);
        Plan plan = trainingPlan(rows);
        plan.loadBatch(train, order, from);
        plan.setStepSeed(Plan.mix(options.seed(), (long) epoch << 32 | s));
        float stepLoss = plan.computeGradients();
        if (!Float.isFinite(stepLoss)) {
          // Stop before the update spreads it into the weights: they stay as they were.
          throw new TrainingDivergedException(epoch, s, stepLoss, firstNonFiniteGradient());
        }
        optimizer.step(backend, parameters);
        lossSum += (double) stepLoss * rows;
        correct += plan.lastCorrect();
        int seen = from + rows;
        for (Callback c : callbacks) {
          c.onBatchEnd(ctx, s, lossSum / seen, (double) correct / seen);
        }
      }
      double seconds = (System.nanoTime() - start) / 1e9;
      double valLoss = Double.NaN, valAccuracy = Double.NaN;
      if (validation != null) {
        Evaluation v = evaluate(validation);
        valLoss = v.loss();
        valAccuracy = v.accuracy();
      }
      EpochStats stats =
          new EpochStats(
              epoch,
              lossSum / n,
              (double) correct / n,
              valLoss,
              valAccuracy,
              seconds,
              n / seconds,
              optimizer.learningRate());
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

  /** Mean loss and accuracy over a data set, in inference mode. */
  public Evaluation evaluate(Dataset data) {
    double lossSum = 0;
    long correct = 0;
    for (int from = 0; from < data.size(); from += EVAL_BATCH) {
      int rows = Math.min(EVAL_BATCH, data.size() - from);
      Plan plan = predictor.borrow(rows);
      try {
        plan.loadBatch(data, null, from);
        lossSum += (double) plan.evaluateStep() * rows;
        correct += plan.lastCorrect();
      } finally {
        predictor.giveBack(plan);
      }
    }
    return new Evaluation(lossSum / data.size(), (double) correct / data.size(), data.size());
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
