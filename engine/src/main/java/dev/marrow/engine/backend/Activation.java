package dev.marrow.engine.backend;

import java.util.Locale;

/**
 * Element-wise activations with Keras' names. Every one of them has a derivative that can be
 * written in terms of its output y, which is what the backward kernels take (as cuDNN's do).
 */
public enum Activation {
  LINEAR,
  RELU,
  SIGMOID,
  TANH,
  /** Row-wise softmax over the last axis; see {@link Backend#softmaxForward}. */
  SOFTMAX;

  /** Parses a Keras activation name ("relu", "sigmoid", "tanh", "softmax", "linear"). */
  public static Activation fromName(String name) {
    if (name == null || name.isEmpty() || name.equalsIgnoreCase("none")) {
      return LINEAR;
    }
    try {
      return valueOf(name.toUpperCase(Locale.ROOT));
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(
          "unknown activation '"
              + name
              + "'; expected one of relu, sigmoid, tanh, softmax, linear");
    }
  }

  public String kerasName() {
    return name().toLowerCase(Locale.ROOT);
  }
}
