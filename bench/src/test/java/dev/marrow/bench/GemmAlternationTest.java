package dev.marrow.bench;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

class GemmAlternationTest {
  @Test
  void quantilesInterpolateBetweenTheSortedRounds() {
    double[] ratios = {0.9, 0.5, 0.7, 1.1};
    assertEquals(0.8, GemmAlternation.median(ratios), 1e-12);
    assertEquals(0.65, GemmAlternation.quantile(ratios, 0.25), 1e-12);
    assertEquals(0.5, GemmAlternation.quantile(ratios, 0), 1e-12);
    assertEquals(1.1, GemmAlternation.quantile(ratios, 1), 1e-12);
    assertArrayEquals(new double[] {0.9, 0.5, 0.7, 1.1}, ratios, "the rounds stay in their order");
  }

  @Test
  void anOddNumberOfRoundsHasItsMiddleAsMedian() {
    assertEquals(0.72, GemmAlternation.median(new double[] {0.75, 0.72, 0.6}), 1e-12);
  }
}
