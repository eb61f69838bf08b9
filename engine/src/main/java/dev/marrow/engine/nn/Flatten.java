package dev.marrow.engine.nn;

/** Flattens each sample to a vector: (1, 28, 28) → (784,). A view; no data moves. */
public final class Flatten extends Reshape {
  public Flatten() {
    super((int[]) null);
  }

  @Override
  public String typeName() {
    return "flatten";
  }
}
