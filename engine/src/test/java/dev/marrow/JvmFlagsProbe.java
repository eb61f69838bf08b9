package dev.marrow;

import dev.marrow.engine.backend.Backends;

/**
 * Run by {@link JvmFlagsTest} in a JVM started without Marrow's flags: prints what each entry does.
 */
public final class JvmFlagsProbe {
  private JvmFlagsProbe() {}

  public static void main(String[] args) {
    probe("Model", () -> Model.sequential(4).add(Layers.dense(2)));
    probe("Backends", () -> Backends.open("cpu"));
    probe("CpuBackend", () -> new dev.marrow.engine.backend.cpu.CpuBackend(1));
  }

  private static void probe(String entry, Runnable r) {
    try {
      r.run();
      System.out.println(entry + ": no error");
    } catch (Throwable t) {
      System.out.println(entry + ": " + t.getClass().getName() + ": " + t.getMessage());
    }
  }
}
