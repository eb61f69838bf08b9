package dev.marrow.bench;

import java.util.Arrays;

/** Order statistics of a benchmark's rounds. */
final class Stats {
  private Stats() {}

  /** The middle value; the mean of the two middle ones for an even count. */
  static double median(double[] values) {
    return quantile(values, 0.5);
  }

  /**
   * The {@code q} quantile (0 the least, 1 the greatest), interpolated linearly between the sorted
   * values' neighbours; {@code values} is left in its order.
   */
  static double quantile(double[] values, double q) {
    double[] sorted = values.clone();
    Arrays.sort(sorted);
    double at = q * (sorted.length - 1);
    int low = (int) Math.floor(at), high = (int) Math.ceil(at);
    return sorted[low] + (sorted[high] - sorted[low]) * (at - low);
  }
}
