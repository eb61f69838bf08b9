package dev.marrow.engine.io.tensorboard;

/**
 * A summary of a tensor's values in TensorFlow's {@code HistogramProto} form: {@code bucketLimits}
 * are the right edges of the buckets, {@code bucketCounts} how many values each holds. TensorBoard
 * takes the first bucket's left edge from {@code min}.
 */
public record Histogram(
    double min,
    double max,
    double num,
    double sum,
    double sumSquares,
    double[] bucketLimits,
    double[] bucketCounts) {
  /** TensorFlow 2's {@code tf.summary.histogram} default. */
  public static final int BUCKETS = 30;

  /**
   * Equal-width buckets between the least and the greatest value, as {@code tf.summary.histogram}
   * makes them; a constant tensor gets one bucket (TensorBoard draws it as a spike). Non-finite
   * values are left out: TensorBoard could not place them, and one would stretch every bucket to
   * infinity.
   */
  public static Histogram of(float[] values) {
    double min = Double.POSITIVE_INFINITY, max = Double.NEGATIVE_INFINITY, sum = 0, squares = 0;
    long num = 0;
    for (float v : values) {
      if (Float.isFinite(v)) {
        min = Math.min(min, v);
        max = Math.max(max, v);
        sum += v;
        squares += (double) v * v;
        num++;
      }
    }
    if (num == 0) {
      return new Histogram(0, 0, 0, 0, 0, new double[0], new double[0]);
    }
    if (min == max) {
      return new Histogram(min, max, num, sum, squares, new double[] {max}, new double[] {num});
    }
    double width = (max - min) / BUCKETS;
    double[] limits = new double[BUCKETS], counts = new double[BUCKETS];
    for (int i = 0; i < BUCKETS; i++) {
      limits[i] = min + (i + 1) * width;
    }
    limits[BUCKETS - 1] = max; // exact, whatever the rounding of the sum above
    for (float v : values) {
      if (Float.isFinite(v)) {
        // The greatest value would land one past the end: it belongs to the last bucket.
        counts[Math.min((int) ((v - min) / width), BUCKETS - 1)]++;
      }
    }
    return new Histogram(min, max, num, sum, squares, limits, counts);
  }
}
