package dev.marrow.bench;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

class StatsTest {
  @Test
  void quantilesInterpolateBetweenTheSortedRounds() {
    double[] ratios = {0.9, 0.5, 0.7, 1.1};
    assertEquals(0.8, Stats.median(ratios), 1e-12);
    assertEquals(0.65, Stats.quantile(ratios, 0.25), 1e-12);
    assertEquals(0.5, Stats.quantile(ratios, 0), 1e-12);
    assertEquals(1.1, Stats.quantile(ratios, 1), 1e-12);
    assertArrayEquals(new double[] {0.9, 0.5, 0.7, 1.1}, ratios, "the rounds stay in their order");
  }

  @Test
  void anOddNumberOfRoundsHasItsMiddleAsMedian() {
    assertEquals(0.72, Stats.median(new double[] {0.75, 0.72, 0.6}), 1e-12);
  }
}
