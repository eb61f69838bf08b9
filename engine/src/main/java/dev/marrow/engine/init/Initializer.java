package dev.marrow.engine.init;

import dev.marrow.engine.tensor.Tensor;
import java.util.Locale;
import java.util.random.RandomGenerator;

/**
 * Weight initializers with Keras' names and formulas. fanIn/fanOut follow Keras: for a dense kernel
 * (in, out) they are in and out; for a convolution kernel they are multiplied by the receptive
 * field size.
 */
@FunctionalInterface
public interface Initializer {

  void initialize(Tensor tensor, int fanIn, int fanOut, RandomGenerator random);

  static Initializer zeros() {
    return constant(0);
  }

  static Initializer ones() {
    return constant(1);
  }

  static Initializer constant(float value) {
    return (t, fanIn, fanOut, r) -> java.util.Arrays.fill(t.array(), value);
  }

  /** U(−limit, limit) with limit = sqrt(6 / (fanIn + fanOut)): Keras' default for Dense/Conv2D. */
  static Initializer glorotUniform() {
    return (t, fanIn, fanOut, r) -> uniform(t, Math.sqrt(6.0 / (fanIn + fanOut)), r);
  }

  /** Truncated normal, stddev sqrt(2 / (fanIn + fanOut)), as Keras' glorot_normal. */
  static Initializer glorotNormal() {
    return (t, fanIn, fanOut, r) -> truncatedNormal(t, Math.sqrt(2.0 / (fanIn + fanOut)), r);
  }

  /** Truncated normal, stddev sqrt(2 / fanIn), as Keras' he_normal. */
  static Initializer heNormal() {
    return (t, fanIn, fanOut, r) -> truncatedNormal(t, Math.sqrt(2.0 / fanIn), r);
  }

  /** U(−limit, limit) with limit = sqrt(6 / fanIn), as Keras' he_uniform. */
  static Initializer heUniform() {
    return (t, fanIn, fanOut, r) -> uniform(t, Math.sqrt(6.0 / fanIn), r);
  }

  /**
   * U(−1/sqrt(fanIn), 1/sqrt(fanIn)): PyTorch's default for nn.Linear and nn.Conv2d weights and
   * biases (kaiming_uniform with a = sqrt(5)), for models ported from PyTorch tutorials.
   */
  static Initializer torchDefault() {
    return (t, fanIn, fanOut, r) -> uniform(t, 1 / Math.sqrt(fanIn), r);
  }

  /** N(mean, stddev²), untruncated: Keras' random_normal (Nielsen's book uses N(0, 1)). */
  static Initializer randomNormal(double mean, double stddev) {
    return (t, fanIn, fanOut, r) -> {
      float[] a = t.array();
      for (int i = 0; i < a.length; i++) {
        a[i] = (float) (mean + stddev * r.nextGaussian());
      }
    };
  }

  /** Looks up an initializer by its Keras name. */
  static Initializer named(String name) {
    return switch (name.toLowerCase(Locale.ROOT)) {
      case "zeros" -> zeros();
      case "ones" -> ones();
      case "glorot_uniform" -> glorotUniform();
      case "glorot_normal" -> glorotNormal();
      case "he_normal" -> heNormal();
      case "he_uniform" -> heUniform();
      case "torch_default" -> torchDefault();
      case "random_normal" -> randomNormal(0, 0.05);
      default ->
          throw new IllegalArgumentException(
              "unknown initializer '"
                  + name
                  + "'; expected zeros, ones, glorot_uniform, glorot_normal, he_normal, he_uniform,"
                  + " torch_default or random_normal");
    };
  }

  private static void uniform(Tensor t, double limit, RandomGenerator r) {
    float[] a = t.array();
    for (int i = 0; i < a.length; i++) {
      a[i] = (float) ((r.nextDouble() * 2 - 1) * limit);
    }
  }

  // Keras/TensorFlow truncate at two standard deviations and rescale by 1/0.8796 so that the
  // truncated distribution keeps the requested variance.
  private static void truncatedNormal(Tensor t, double stddev, RandomGenerator r) {
    double scaled = stddev / 0.87962566103423978;
    float[] a = t.array();
    for (int i = 0; i < a.length; i++) {
      double g;
      do {
        g = r.nextGaussian();
      } while (Math.abs(g) > 2);
      a[i] = (float) (g * scaled);
    }
  }
}
