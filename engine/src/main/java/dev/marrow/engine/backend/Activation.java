package dev.marrow.engine.backend;

import java.util.Locale;

/**
 * Element-wise activations with Keras' names and Keras 3's defaults. The backward kernels take the
 * forward output y, as cuDNN's do, and the forward input x for the activations whose derivative is
 * not a function of y ({@link #backwardNeedsInput}).
 */
public enum Activation {
  LINEAR,
  RELU,
  SIGMOID,
  TANH,
  /** Row-wise softmax over the last axis; see {@link Backend#softmaxForward}. */
  SOFTMAX,
  /**
   * x for x &gt; 0, else {@link #LEAKY_RELU_SLOPE}·x: Keras 3's {@code
   * keras.activations.leaky_relu} (negative_slope 0.2; PyTorch's default is 0.01, Keras' LeakyReLU
   * layer's 0.3).
   */
  LEAKY_RELU,
  /** x for x &gt; 0, else e^x − 1 (alpha 1, as in Keras and PyTorch). */
  ELU,
  /**
   * x·Φ(x) with Φ the standard normal CDF, the exact erf form (Keras' {@code approximate=False},
   * PyTorch's {@code approximate='none'}).
   */
  GELU,
  /** x·sigmoid(x), also called swish. */
  SILU,
  /** log(1 + e^x), computed stably; x itself above 20, as PyTorch's threshold does. */
  SOFTPLUS;

  /** The negative slope of {@link #LEAKY_RELU}. */
  public static final float LEAKY_RELU_SLOPE = 0.2f;

  /**
   * True when the derivative needs the forward input x: gelu's and silu's are not functions of y,
   * and softplus' from y (1 − e^−y) loses all precision where y is tiny. The others' derivatives
   * are written in terms of y (ELU's e^x is y + 1 for x ≤ 0; leaky ReLU's slope keeps x's sign).
   */
  public boolean backwardNeedsInput() {
    return this == GELU || this == SILU || this == SOFTPLUS;
  }

  /**
   * Parses a Keras activation name: relu, sigmoid, tanh, softmax, linear (or none), leaky_relu,
   * elu, gelu, silu (or its alias swish), softplus.
   */
  public static Activation fromName(String name) {
    if (name == null || name.isEmpty() || name.equalsIgnoreCase("none")) {
      return LINEAR;
    }
    if (name.equalsIgnoreCase("swish")) {
      return SILU;
    }
    try {
      return valueOf(name.toUpperCase(Locale.ROOT));
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(
          "unknown activation '"
              + name
              + "'; expected one of relu, sigmoid, tanh, softmax, linear, leaky_relu, elu, gelu,"
              + " silu (swish), softplus");
    }
  }

  public String kerasName() {
    return name().toLowerCase(Locale.ROOT);
  }
}
