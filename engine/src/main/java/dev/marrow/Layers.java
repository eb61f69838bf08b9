package dev.marrow;

import dev.marrow.engine.backend.Activation;
import dev.marrow.engine.nn.ActivationLayer;
import dev.marrow.engine.nn.Add;
import dev.marrow.engine.nn.Average;
import dev.marrow.engine.nn.BatchNormalization;
import dev.marrow.engine.nn.Concatenate;
import dev.marrow.engine.nn.Conv2D;
import dev.marrow.engine.nn.Dense;
import dev.marrow.engine.nn.Dropout;
import dev.marrow.engine.nn.Flatten;
import dev.marrow.engine.nn.GlobalAveragePooling2D;
import dev.marrow.engine.nn.GlobalMaxPooling2D;
import dev.marrow.engine.nn.Multiply;
import dev.marrow.engine.nn.Node;
import dev.marrow.engine.nn.Normalization;
import dev.marrow.engine.nn.Padding;
import dev.marrow.engine.nn.Pooling2D;
import dev.marrow.engine.nn.Reshape;
import dev.marrow.engine.nn.ZeroPadding2D;

/** Layers by their Keras names and defaults; the classes in dev.marrow.engine.nn take more. */
public final class Layers {
  private Layers() {}

  /** {@code Dense(units)}: no activation. */
  public static Dense dense(int units) {
    return new Dense(units);
  }

  /** {@code Dense(units, activation="relu")}. */
  public static Dense dense(int units, String activation) {
    return new Dense(units, activation);
  }

  /** {@code Conv2D(filters, kernel)}, stride 1, valid padding, bias. */
  public static Conv2D conv2d(int filters, int kernel, String activation) {
    return Conv2D.builder(filters, kernel).activation(Activation.fromName(activation)).build();
  }

  /** {@code Conv2D(filters, kernel, padding="same")}. */
  public static Conv2D conv2dSame(int filters, int kernel, String activation) {
    return Conv2D.builder(filters, kernel)
        .padding(Padding.SAME)
        .activation(Activation.fromName(activation))
        .build();
  }

  public static Pooling2D maxPool(int pool) {
    return Pooling2D.max(pool);
  }

  public static Pooling2D averagePool(int pool) {
    return Pooling2D.average(pool);
  }

  public static GlobalAveragePooling2D globalAveragePool() {
    return new GlobalAveragePooling2D();
  }

  public static GlobalMaxPooling2D globalMaxPool() {
    return new GlobalMaxPooling2D();
  }

  /** {@code ZeroPadding2D(padding)}: the same number of zero rows and columns on every side. */
  public static ZeroPadding2D zeroPadding(int padding) {
    return new ZeroPadding2D(padding);
  }

  /** {@code ZeroPadding2D((rows, columns))}: rows above and below, columns left and right. */
  public static ZeroPadding2D zeroPadding(int rows, int columns) {
    return new ZeroPadding2D(rows, columns);
  }

  /** {@code ZeroPadding2D(((top, bottom), (left, right)))}. */
  public static ZeroPadding2D zeroPadding(int top, int bottom, int left, int right) {
    return new ZeroPadding2D(top, bottom, left, right);
  }

  public static BatchNormalization batchNorm() {
    return new BatchNormalization();
  }

  public static Dropout dropout(double rate) {
    return new Dropout(rate);
  }

  public static Flatten flatten() {
    return new Flatten();
  }

  public static Reshape reshape(int... shape) {
    return new Reshape(shape);
  }

  public static ActivationLayer activation(String name) {
    return new ActivationLayer(name);
  }

  /**
   * Keras' {@code Normalization()}: standardises features (or channels) with statistics fitted by
   * {@link Normalization#adapt} on training data and saved with the model.
   */
  public static Normalization normalization() {
    return new Normalization();
  }

  // ---- functional models: nodes and merge layers (Keras' Input, Add, Concatenate, …) ----

  /** Keras' {@code Input(shape)}: a model input node of per-sample shape {@code shape}. */
  public static Node input(int... shape) {
    return Node.input(shape);
  }

  /** Keras' {@code Input(shape, name=…)}: a named input, for models with several. */
  public static Node input(String name, int... shape) {
    return Node.input(dev.marrow.engine.tensor.Shape.of(shape), name);
  }

  /** Keras' {@code Add()}: the sum of inputs of one shape (residual connections). */
  public static Add add() {
    return new Add();
  }

  /** Keras' {@code Concatenate(axis=1)}: joins NCHW images on channels, vectors on features. */
  public static Concatenate concatenate() {
    return new Concatenate();
  }

  /** Keras' {@code Concatenate(axis)}, the batch being axis 0. */
  public static Concatenate concatenate(int axis) {
    return new Concatenate(axis);
  }

  /** Keras' {@code Multiply()}: the element-wise product of inputs of one shape. */
  public static Multiply multiply() {
    return new Multiply();
  }

  /** Keras' {@code Average()}: the element-wise mean of inputs of one shape. */
  public static Average average() {
    return new Average();
  }
}
