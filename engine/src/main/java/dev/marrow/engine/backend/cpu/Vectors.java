package dev.marrow.engine.backend.cpu;

import java.util.Locale;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorShuffle;
import jdk.incubator.vector.VectorSpecies;

/**
 * The one place the CPU kernels take their vector species from, so that every kernel, tile shape
 * and benchmark agrees on it, and so that it can be changed for a whole run:
 *
 * <ul>
 *   <li>{@code -Dmarrow.cpu.vectorBits=128|256|512} forces a vector width (default: the machine's
 *       preferred one, 512 bits on AVX-512, 256 on AVX2). On an AVX-512 machine, 256 together with
 *       {@code -XX:UseAVX=2} runs the AVX2 code path;
 *   <li>{@code -Dmarrow.cpu.scalar=true} runs every loop that has a scalar tail entirely in that
 *       tail (element-wise, optimizer, direct-convolution and row-copy kernels), to tell a vector
 *       loop's result from the scalar one's. The GEMM micro-kernels and 2×2 pooling have no scalar
 *       form and stay vectorized.
 * </ul>
 *
 * Both are read once, when the CPU backend's first class loads: constants the JIT can fold.
 */
public final class Vectors {
  private Vectors() {}

  /** The float species of every CPU kernel. */
  public static final VectorSpecies<Float> FLOAT = floatSpecies();

  /** Lanes in {@link #FLOAT}: 16 on AVX-512, 8 on AVX2. */
  public static final int LANES = FLOAT.length();

  /**
   * Rows of a convolution's patches are as short as its output is wide (8 floats in the second
   * layer of the MNIST CNNs), so they are moved in vectors of at most 8 floats.
   */
  static final VectorSpecies<Float> ROW = LANES >= 8 ? FloatVector.SPECIES_256 : FLOAT;

  // Two vectors [a | b] as their even and odd lanes (a deinterleave), and back (a zip): lane
  // indices of LANES and above select from b. For splitting rows into stride-2 phases
  // (PaddedGrid, WinogradConv's polyphase planes) and merging them back.
  static final VectorShuffle<Float> EVEN = VectorShuffle.fromOp(FLOAT, i -> 2 * i);
  static final VectorShuffle<Float> ODD = VectorShuffle.fromOp(FLOAT, i -> 2 * i + 1);
  static final VectorShuffle<Float> ZIP_LOW =
      VectorShuffle.fromOp(FLOAT, i -> (i & 1) * LANES + i / 2);
  static final VectorShuffle<Float> ZIP_HIGH =
      VectorShuffle.fromOp(FLOAT, i -> (i & 1) * LANES + LANES / 2 + i / 2);

  /** True when loops with a scalar tail run only that tail. */
  public static final boolean SCALAR = Boolean.getBoolean("marrow.cpu.scalar");

  /** The end of the vector loop over {@code [0, n)} for {@code species}: 0 in scalar mode. */
  static int loopBound(VectorSpecies<Float> species, int n) {
    return SCALAR ? 0 : species.loopBound(n);
  }

  /** The end of the vector loop over {@code [0, n)} for {@link #FLOAT}: 0 in scalar mode. */
  static int loopBound(int n) {
    return loopBound(FLOAT, n);
  }

  /** "512-bit (16 floats)", and " scalar tails" when {@code marrow.cpu.scalar} is set. */
  public static String describe() {
    return FLOAT.vectorBitSize() + "-bit (" + LANES + " floats)" + (SCALAR ? ", scalar mode" : "");
  }

  private static VectorSpecies<Float> floatSpecies() {
    String bits = System.getProperty("marrow.cpu.vectorBits", "").strip();
    if (bits.isEmpty() || bits.toLowerCase(Locale.ROOT).equals("preferred")) {
      return FloatVector.SPECIES_PREFERRED;
    }
    int wanted;
    try {
      wanted = Integer.parseInt(bits);
    } catch (NumberFormatException e) {
      wanted = -1;
    }
    int max = FloatVector.SPECIES_MAX.vectorBitSize();
    if (wanted != 128 && wanted != 256 && wanted != 512 || wanted > max) {
      throw new IllegalArgumentException(
          "-Dmarrow.cpu.vectorBits="
              + bits
              + ": expected 128, 256 or 512, at most this machine's "
              + max
              + " bits");
    }
    return VectorSpecies.of(float.class, VectorShape.forBitSize(wanted));
  }
}
