package dev.marrow.engine.nn;

import dev.marrow.engine.backend.Backend;
import dev.marrow.engine.tensor.Shape;
import dev.marrow.engine.tensor.Tensor;

/**
 * What a layer needs to bind itself into a plan: the backend, the batch size, whether gradients are
 * wanted, and a per-step seed source for layers that draw random numbers.
 */
public final class CompileContext {
  private final Backend backend;
  private final int batch;
  private final boolean training;
  private final SeedSource seeds;
  private long activationBytes;
  private long gradientBytes;

  /** Supplies the random seed a stochastic layer uses on the current step. */
  @FunctionalInterface
  public interface SeedSource {
    long seedFor(int layerIndex);
  }

  public CompileContext(Backend backend, int batch, boolean training, SeedSource seeds) {
    this.backend = backend;
    this.batch = batch;
    this.training = training;
    this.seeds = seeds;
  }

  public Backend backend() {
    return backend;
  }

  public int batch() {
    return batch;
  }

  /** True when the plan runs backward passes, so layers allocate gradient buffers. */
  public boolean training() {
    return training;
  }

  public SeedSource seeds() {
    return seeds;
  }

  /** A buffer of the given per-sample shape for the whole batch (an activation). */
  public Tensor allocateBatch(Shape sampleShape) {
    activationBytes += 4L * batch * sampleShape.size();
    return backend.allocate(sampleShape.withBatch(batch));
  }

  /** A gradient buffer, or null when the plan does no backward pass. */
  public Tensor allocateBatchGrad(Shape sampleShape) {
    if (!training) {
      return null;
    }
    gradientBytes += 4L * batch * sampleShape.size();
    return backend.allocate(sampleShape.withBatch(batch));
  }

  /** Bytes of the batch-sized activation buffers allocated through this context so far. */
  public long activationBytes() {
    return activationBytes;
  }

  /** Bytes of the batch-sized gradient buffers allocated through this context so far. */
  public long gradientBytes() {
    return gradientBytes;
  }
}
