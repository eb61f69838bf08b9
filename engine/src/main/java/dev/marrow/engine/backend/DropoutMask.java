package dev.marrow.engine.backend;

/**
 * The counter-based random numbers behind dropout: element i of a mask drawn with a seed is kept
 * iff {@code uniform(seed, i) >= rate}. A pure function of (seed, i), so every backend, thread
 * split and GPU kernel draws the same mask.
 */
public final class DropoutMask {
  private DropoutMask() {}

  /** A uniform float in [0, 1) from 24 bits of splitmix64(seed, index). */
  public static float uniform(long seed, long index) {
    long z = seed + (index + 1) * 0x9E3779B97F4A7C15L;
    z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
    z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
    z = z ^ (z >>> 31);
    return (z >>> 40) * 0x1.0p-24f;
  }
}
