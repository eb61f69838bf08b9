package dev.marrow.cli;

import dev.marrow.engine.backend.Backend;
import dev.marrow.engine.data.Dataset;
import dev.marrow.engine.io.ModelFiles;
import dev.marrow.engine.loss.SparseCategoricalCrossentropy;
import dev.marrow.engine.nn.Graph;
import dev.marrow.engine.optim.Sgd;
import dev.marrow.engine.tensor.Tensor;
import dev.marrow.engine.train.Trainer;
import java.io.IOException;
import java.nio.file.Path;

/**
 * A trained model loaded from a run folder, with the predictions the evaluate, predict and plot
 * commands share: class probabilities (softmax of the logits), the predicted class, its confidence
 * and a confusion matrix.
 */
final class RunModel {
  final Graph model;
  private final Trainer trainer;

  private RunModel(Graph model, Backend backend) {
    this.model = model;
    // The loss only serves evaluate(); the optimizer is never stepped.
    this.trainer =
        new Trainer(model, new Sgd(1e-3), new SparseCategoricalCrossentropy(true), backend);
  }

  static RunModel of(Graph model, Backend backend) {
    return new RunModel(model, backend);
  }

  static RunModel load(Path runDir, Backend backend) {
    try {
      return new RunModel(ModelFiles.load(runDir), backend);
    } catch (IOException e) {
      throw new UserError("--model " + runDir + ": " + e.getMessage(), e);
    }
  }

  Trainer trainer() {
    return trainer;
  }

  /** Class probabilities, (N, classes): the engine's predictor, safe from many threads. */
  Tensor probabilities(Tensor inputs) {
    return trainer.predictor().predictProbabilities(inputs);
  }

  /** Predicted classes and their probabilities for a whole data set, plus the confusion matrix. */
  record Predictions(int[] predicted, float[] confidence, int[][] confusion) {}

  Predictions predictAll(Dataset data) {
    Tensor p = probabilities(data.features());
    int classes = p.shape().dim(-1);
    int[] predicted = new int[data.size()];
    float[] confidence = new float[data.size()];
    int[][] confusion = new int[classes][classes];
    for (int i = 0; i < data.size(); i++) {
      int best = 0;
      for (int c = 1; c < classes; c++) {
        if (p.get(i * classes + c) > p.get(i * classes + best)) {
          best = c;
        }
      }
      predicted[i] = best;
      confidence[i] = p.get(i * classes + best);
      confusion[data.label(i)][best]++;
    }
    return new Predictions(predicted, confidence, confusion);
  }
}
