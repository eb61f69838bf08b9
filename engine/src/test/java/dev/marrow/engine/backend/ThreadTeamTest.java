package dev.marrow.engine.backend;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.marrow.engine.backend.cpu.ThreadTeam;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicIntegerArray;
import org.junit.jupiter.api.Test;

class ThreadTeamTest {

  @Test
  void everyIndexRunsExactlyOnce() {
    try (ThreadTeam team = new ThreadTeam(3)) {
      for (int n : new int[] {1, 2, 7, 100, 10_001}) {
        for (int rep = 0; rep < 50; rep++) {
          AtomicIntegerArray hits = new AtomicIntegerArray(n);
          team.parallelFor(
              n,
              1,
              (from, to) -> {
                for (int i = from; i < to; i++) {
                  hits.incrementAndGet(i);
                }
              });
          for (int i = 0; i < n; i++) {
            assertEquals(1, hits.get(i), "index " + i + " of " + n);
          }
        }
      }
    }
  }

  @Test
  void aFailingChunkIsRethrownToTheCaller() {
    try (ThreadTeam team = new ThreadTeam(2)) {
      var e =
          assertThrows(
              IllegalStateException.class,
              () ->
                  team.parallelFor(
                      1000,
                      1,
                      (from, to) -> {
                        if (from <= 500 && 500 < to) {
                          throw new IllegalStateException("boom at 500");
                        }
                      }));
      assertEquals("boom at 500", e.getMessage());
      int[] sum = {0};
      team.parallelFor(10, 10, (from, to) -> sum[0] += to - from); // still usable
      assertEquals(10, sum[0]);
    }
  }

  @Test
  void concurrentCallersAllComplete() throws Exception {
    try (ThreadTeam team = new ThreadTeam(2)) {
      ExecutorService pool = Executors.newFixedThreadPool(4);
      try {
        Future<?>[] fs = new Future<?>[8];
        for (int t = 0; t < fs.length; t++) {
          fs[t] =
              pool.submit(
                  () -> {
                    for (int rep = 0; rep < 200; rep++) {
                      AtomicIntegerArray hits = new AtomicIntegerArray(97);
                      team.parallelFor(
                          97,
                          1,
                          (from, to) -> {
                            for (int i = from; i < to; i++) {
                              hits.incrementAndGet(i);
                            }
                          });
                      for (int i = 0; i < 97; i++) {
                        assertEquals(1, hits.get(i));
                      }
                    }
                  });
        }
        for (Future<?> f : fs) {
          f.get();
        }
      } finally {
        pool.shutdownNow();
      }
    }
  }

  @Test
  void aClosedTeamRefusesWorkInsteadOfHanging() {
    ThreadTeam team = new ThreadTeam(2);
    team.close();
    assertThrows(IllegalStateException.class, () -> team.parallelFor(100, 1, (a, b) -> {}));
  }
}
