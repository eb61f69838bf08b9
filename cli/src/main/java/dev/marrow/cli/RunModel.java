package dev.marrow.cli;

import dev.marrow.engine.backend.Backend;
import dev.marrow.engine.data.Batch;
import dev.marrow.engine.data.DataSource;
import dev.marrow.engine.io.ModelFiles;
import dev.marrow.engine.nn.Graph;
import dev.marrow.engine.optim.Sgd;
import dev.marrow.engine.tensor.Tensor;
import dev.marrow.engine.train.Trainer;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;

/**
 * A trained model, from a run folder or just trained, with the predictions the evaluate, predict
 * and plot commands share: for classifiers the probabilities, predicted class, confidence and
 * confusion matrix; for regression the predicted and true values.
 */
final class RunModel {
  final Graph model;
  private final Trainer trainer;
  private final TrainingData.Task task;

  private RunModel(Graph model, Trainer trainer, TrainingData.Task task) {
    this.model = model;
    this.trainer = trainer;
    this.task = task;
  }

  /** The model a run just trained, with its trainer (its loss and metrics). */
  static RunModel of(Graph model, Trainer trainer) {
    return new RunModel(model, trainer, taskOf(model));
  }

  static RunModel load(Path runDir, Backend backend) {
    Graph model;
    try {
      model = ModelFiles.load(runDir);
    } catch (IOException e) {
      throw new UserError("--model " + runDir + ": " + e.getMessage(), e);
    }
    TrainingData.Task task = taskOf(model);
    // The loss only serves evaluate(); the optimizer is never stepped.
    Trainer trainer = new Trainer(model, new Sgd(1e-3), task.loss(), backend, task.metrics());
    return new RunModel(model, trainer, task);
  }

  /** What a saved model predicts: its model.json says so; older runs are digit classifiers. */
  static TrainingData.Task taskOf(Graph model) {
    List<String> task = model.dataDescription().get("task");
    if (task == null || task.isEmpty()) {
      return TrainingData.Task.CLASSIFICATION;
    }
    return TrainingData.Task.valueOf(task.get(0).toUpperCase(Locale.ROOT).replace('-', '_'));
  }

  Trainer trainer() {
    return trainer;
  }

  TrainingData.Task task() {
    return task;
  }

  /** Class probabilities, (N, classes): the engine's predictor, safe from many threads. */
  Tensor probabilities(Tensor inputs) {
    return trainer.predictor().predictProbabilities(inputs);
  }

  /** Predicted classes and their probabilities for a whole data set, plus the confusion matrix. */
  record Predictions(int[] predicted, float[] confidence, int[] truth, int[][] confusion) {}

  Predictions predictAll(DataSource data) {
    Tensor probabilities = trainer.predictor().predictProbabilities(data);
    int n = data.size(), classes = probabilities.shape().dim(-1);
    float[] p = probabilities.array();
    int[] truth = labels(data);
    int[] predicted = new int[n];
    float[] confidence = new float[n];
    int[][] confusion = new int[classes][classes];
    for (int i = 0; i < n; i++) {
      int best = 0;
      for (int c = 1; c < classes; c++) {
        if (p[i * classes + c] > p[i * classes + best]) {
          best = c;
        }
      }
      predicted[i] = best;
      confidence[i] = p[i * classes + best];
      confusion[truth[i]][best]++;
    }
    return new Predictions(predicted, confidence, truth, confusion);
  }

  /** Predicted and true values of a regression model, (N × targets) each, row-major. */
  record Values(float[] predicted, float[] truth, int targets) {}

  Values valuesAll(DataSource data) {
    int m = data.targets().valueSize();
    float[] truth = new float[data.size() * m];
    eachBatch(data, (b, from) -> System.arraycopy(b.values(), 0, truth, from * m, b.rows() * m));
    return new Values(trainer.predictor().predict(data).array(), truth, m);
  }

  /** The class labels of a data source, in order. */
  static int[] labels(DataSource data) {
    int[] out = new int[data.size()];
    eachBatch(data, (b, from) -> System.arraycopy(b.labels(), 0, out, from, b.rows()));
    return out;
  }

  /** Reads a source in order, a batch at a time, handing each with its first sample's index. */
  private static void eachBatch(DataSource data, java.util.function.ObjIntConsumer<Batch> use) {
    Batch b = data.newBatch(Math.min(1024, Math.max(1, data.size())));
    for (int from = 0; from < data.size(); from += b.capacity()) {
      data.read(null, from, Math.min(b.capacity(), data.size() - from), b);
      use.accept(b, from);
    }
  }
}
