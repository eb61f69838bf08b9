package dev.marrow.engine.backend.reference;

/**
 * The special functions Java's Math lacks, in double precision, for the reference backend and as
 * the yardstick of the float kernels' tests: erf, erfc and the standard normal CDF and density.
 * Relative error about 1e-15, except erfc between 1 and 3 (taken as 1 − erf): 3e-11; checked
 * against known values in ReferenceMathTest.
 */
public final class ReferenceMath {
  private ReferenceMath() {}

  private static final double TWO_OVER_SQRT_PI = 2 / Math.sqrt(Math.PI);
  private static final double SQRT_HALF = Math.sqrt(0.5);
  private static final double INV_SQRT_2PI = 1 / Math.sqrt(2 * Math.PI);

  /** Beyond it erfc comes from its continued fraction; below, 1 − erf loses at most 4 digits. */
  private static final double SERIES_LIMIT = 3;

  public static double erf(double x) {
    if (Math.abs(x) >= SERIES_LIMIT) {
      return Math.copySign(1 - erfc(Math.abs(x)), x);
    }
    // erf(x) = 2/√π·e^−x²·Σ 2ⁿ·x^(2n+1)/(1·3···(2n+1)): all terms positive, so nothing cancels
    double x2 = x * x, term = x, sum = x;
    for (int n = 1; Math.abs(term) > 1e-17 * Math.abs(sum); n++) {
      term *= 2 * x2 / (2 * n + 1);
      sum += term;
    }
    return TWO_OVER_SQRT_PI * Math.exp(-x2) * sum;
  }

  public static double erfc(double x) {
    if (x < 0) {
      return 2 - erfc(-x);
    }
    if (x < SERIES_LIMIT) {
      return 1 - erf(x);
    }
    // e^−x²/√π · 1/(x + (1/2)/(x + 1/(x + (3/2)/(x + …)))), evaluated from the 60th term up: it
    // has converged to double precision by then for x ≥ 3.
    double f = x;
    for (int k = 60; k >= 1; k--) {
      f = x + (k / 2.0) / f;
    }
    return Math.exp(-x * x) / (Math.sqrt(Math.PI) * f);
  }

  /** Φ(x), the standard normal CDF, as ½·erfc(−x/√2): accurate in the lower tail too. */
  public static double normalCdf(double x) {
    return 0.5 * erfc(-x * SQRT_HALF);
  }

  /** φ(x), the standard normal density. */
  public static double normalPdf(double x) {
    return INV_SQRT_2PI * Math.exp(-0.5 * x * x);
  }
}
