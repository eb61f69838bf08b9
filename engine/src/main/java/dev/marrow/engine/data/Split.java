package dev.marrow.engine.data;

import java.util.SplittableRandom;

/** A data source cut in two without copying: a training part and a held-out part. */
public record Split(DataSource train, DataSource test) {

  /**
   * Holds out a random {@code fraction} of the samples (at least one, and at least one left to
   * train on), drawn by a seeded shuffle so that the same seed always holds out the same samples;
   * both parts keep the source's order.
   */
  public static Split random(DataSource data, double fraction, long seed) {
    if (!(fraction > 0 && fraction < 1)) {
      throw new IllegalArgumentException("a test split is a fraction in (0, 1), got " + fraction);
    }
    int n = data.size(), held = (int) Math.round(n * fraction);
    if (held < 1 || held >= n) {
      throw new IllegalArgumentException(
          "a test split of "
              + fraction
              + " of "
              + n
              + " samples leaves no test or no training data");
    }
    boolean[] test = new boolean[n];
    SplittableRandom random = new SplittableRandom(seed);
    // Floyd's sampling: `held` distinct indices, uniformly, in O(held).
    for (int j = n - held; j < n; j++) {
      int t = random.nextInt(j + 1);
      test[test[t] ? j : t] = true;
    }
    int[] trainIdx = new int[n - held], testIdx = new int[held];
    for (int i = 0, a = 0, b = 0; i < n; i++) {
      if (test[i]) {
        testIdx[b++] = i;
      } else {
        trainIdx[a++] = i;
      }
    }
    return new Split(data.subset(trainIdx), data.subset(testIdx));
  }
}
