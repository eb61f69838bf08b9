package dev.marrow.engine.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.marrow.engine.backend.TestBackends;
import dev.marrow.engine.backend.cpu.CpuBackend;
import dev.marrow.engine.loss.SparseCategoricalCrossentropy;
import dev.marrow.engine.nn.Dense;
import dev.marrow.engine.nn.Sequential;
import dev.marrow.engine.optim.Adam;
import dev.marrow.engine.tensor.Tensor;
import dev.marrow.engine.train.Trainer;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A process killed with SIGKILL in the middle of saving a checkpoint must leave the previous one
 * intact: a child JVM saves checkpoints in a loop (every weight equal to the save's number) and is
 * killed at random moments; after every kill the checkpoint must load, whole and consistent.
 */
class KillDuringSaveTest {
  @TempDir Path dir;

  static Sequential model() {
    // Large enough (≈ 4 MB per save) that a kill often lands inside a write.
    return new Sequential(512).add(new Dense(1024)).add(new Dense(10)).build(1);
  }

  /** The child: saves checkpoint after checkpoint until killed. */
  public static void main(String[] args) throws Exception {
    Path file = Path.of(args[0]);
    Sequential m = model();
    Adam adam = new Adam(1e-3);
    try (CpuBackend cpu = TestBackends.cpu(1)) {
      new Trainer(m, adam, new SparseCategoricalCrossentropy(true), cpu);
      for (int save = 1; ; save++) {
        for (Tensor t : ModelFiles.stateDict(m).values()) {
          java.util.Arrays.fill(t.array(), save);
        }
        Checkpoint.save(file, m, adam, save, 7, Map.of());
        System.out.println("saved " + save);
        System.out.flush();
      }
    }
  }

  @Test
  void theLastCheckpointSurvivesKillsDuringSaves() throws Exception {
    Path file = dir.resolve(Checkpoint.FILE);
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    SplittableRandom random = new SplittableRandom(5);
    int kills = 0;
    int lastEpoch = 0;
    for (int round = 0; round < 12; round++) {
      Process child =
          new ProcessBuilder(
                  List.of(
                      java,
                      "--add-modules",
                      "jdk.incubator.vector",
                      "-cp",
                      System.getProperty("java.class.path"),
                      KillDuringSaveTest.class.getName(),
                      file.toString()))
              .redirectErrorStream(true)
              .start();
      BufferedReader out = new BufferedReader(new InputStreamReader(child.getInputStream()));
      String line;
      while ((line = out.readLine()) != null && !line.startsWith("saved")) {
        // JVM warnings before the first save
      }
      assertTrue(line != null, "the child saved at least once");
      Thread.sleep(random.nextInt(1, 60));
      child.destroyForcibly(); // SIGKILL: no shutdown hooks, no finally blocks
      assertTrue(child.waitFor(30, TimeUnit.SECONDS));
      kills++;

      Sequential m = model();
      Adam adam = new Adam(1e-3);
      try (CpuBackend cpu = TestBackends.cpu(1)) {
        new Trainer(m, adam, new SparseCategoricalCrossentropy(true), cpu);
        Checkpoint c = Checkpoint.restore(file, m, adam);
        for (Tensor t : ModelFiles.stateDict(m).values()) {
          for (float v : t.array()) {
            assertEquals(c.epoch(), v, "every weight comes from the same save " + c.epoch());
          }
        }
        assertTrue(c.epoch() >= 1);
        lastEpoch = c.epoch();
      }
    }
    assertEquals(12, kills);
    assertTrue(lastEpoch >= 1);
    try (var stray = Files.list(dir)) {
      // Temp files of interrupted saves may remain beside it; the checkpoint itself is whole.
      assertTrue(stray.anyMatch(p -> p.equals(file)));
    }
  }
}
