package dev.marrow.cli;

import dev.marrow.Losses;
import dev.marrow.engine.data.DataSource;
import dev.marrow.engine.data.Targets;
import dev.marrow.engine.loss.Loss;
import dev.marrow.engine.tensor.Shape;
import java.util.List;
import java.util.Map;

/**
 * The data of a run, however it was given: a training and a test source, what the targets are, and
 * the description saved with the model (columns, image size) so that evaluate and predict can read
 * new data the same way.
 *
 * @param name for log lines: "MNIST", "houses.csv", "photos/"
 * @param kind digits (the MNIST family, IDX files), a table (CSV) or an image folder
 */
record TrainingData(
    String name,
    Kind kind,
    DataSource train,
    DataSource test,
    Task task,
    Map<String, List<String>> description) {

  enum Kind {
    DIGITS,
    TABLE,
    IMAGES
  }

  /** What the model predicts, which decides its loss, metrics, outputs and pictures. */
  enum Task {
    /** One class per sample (softmax over the classes). */
    CLASSIFICATION,
    /** Any number of 0/1 labels per sample (one sigmoid per label). */
    MULTI_LABEL,
    /** Numbers (one linear output per target). */
    REGRESSION;

    static Task of(Targets targets, boolean classification) {
      return targets.isClasses() ? CLASSIFICATION : classification ? MULTI_LABEL : REGRESSION;
    }

    /** The loss a user of Keras would pick, on logits for the classifiers. */
    Loss loss() {
      return switch (this) {
        case CLASSIFICATION -> Losses.sparseCategoricalCrossentropy(true);
        case MULTI_LABEL -> Losses.binaryCrossentropy(true);
        case REGRESSION -> Losses.meanSquaredError();
      };
    }

    List<String> metrics() {
      return switch (this) {
        case CLASSIFICATION -> List.of("accuracy");
        case MULTI_LABEL -> List.of("binary_accuracy", "auc");
        case REGRESSION -> List.of("mae", "rmse");
      };
    }

    String lowerCase() {
      return name().toLowerCase(java.util.Locale.ROOT).replace('_', '-');
    }
  }

  Shape sampleShape() {
    return train.sampleShape();
  }

  Targets targets() {
    return train.targets();
  }

  /** Output units the model needs: one per class, one per target value. */
  int outputs() {
    Targets t = targets();
    return t.isClasses() ? t.classes() : t.valueSize();
  }

  /** The 28×28 digits of the tutorials, for which the zoo's own settings apply. */
  boolean isDigits() {
    return kind == Kind.DIGITS;
  }
}
