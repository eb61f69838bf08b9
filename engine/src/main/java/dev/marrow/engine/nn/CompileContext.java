package dev.marrow.engine.nn;

import dev.marrow.engine.backend.Backend;
import dev.marrow.engine.nn.BufferPlan.Kind;
import dev.marrow.engine.tensor.Shape;
import dev.marrow.engine.tensor.Tensor;

/**
 * What a layer needs to bind itself into a plan: the backend, the batch size, whether gradients are
 * wanted, a per-step seed source for layers that draw random numbers, and its buffers.
 *
 * <p>Buffers come in two sorts. {@link #allocateBatch} and {@link #allocateBatchGrad} give memory
 * of the layer's own for the plan's whole life: always safe, whatever the layer does with it. The
 * others are lent by the plan, which gives their memory to other buffers once their lifetime has
 * ended; a layer that asks for them promises what the lifetime rests on: its forward writes all of
 * {@link #output} (and of {@link #saved}) before reading any of it, its backward writes all of each
 * input gradient it is handed, and {@link Layer#backwardReads()} names every activation its
 * backward reads. No lent buffer may be touched in {@code compile} itself: it has no memory yet.
 */
public final class CompileContext {
  private final BufferPlan buffers;
  private final int batch;
  private final boolean training;
  private final SeedSource seeds;
  private final int position;

  /** Supplies the random seed a stochastic layer uses on the current step. */
  @FunctionalInterface
  public interface SeedSource {
    long seedFor(int layerIndex);
  }

  /**
   * The context of the layer at {@code position} in a plan's topological order, whose buffers
   * {@code buffers} keeps.
   */
  public CompileContext(
      BufferPlan buffers, int batch, boolean training, SeedSource seeds, int position) {
    this.buffers = buffers;
    this.batch = batch;
    this.training = training;
    this.seeds = seeds;
    this.position = position;
  }

  public Backend backend() {
    return buffers.backend();
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

  /**
   * A buffer of the given per-sample shape for the whole batch, the layer's own (an activation).
   */
  public Tensor allocateBatch(Shape sampleShape) {
    return buffers.own(sampleShape.withBatch(batch), Kind.ACTIVATION);
  }

  /** A gradient buffer of the layer's own, or null when the plan does no backward pass. */
  public Tensor allocateBatchGrad(Shape sampleShape) {
    return training ? buffers.own(sampleShape.withBatch(batch), Kind.GRADIENT) : null;
  }

  /**
   * The layer's output (what {@link LayerStep#output()} returns), lent: it lives from this layer's
   * forward pass to the last pass that reads it, the readers' forward passes and the backward
   * passes that {@link Layer#backwardReads()} says read it.
   */
  public Tensor output(Shape sampleShape) {
    return buffers.lend(sampleShape.withBatch(batch), Kind.ACTIVATION);
  }

  /**
   * The gradient of the layer's output (what {@link LayerStep#outputGrad()} returns), lent, or null
   * when the plan does no backward pass: it lives from the first backward pass that writes it to
   * this layer's.
   */
  public Tensor outputGrad(Shape sampleShape) {
    return training ? buffers.lend(sampleShape.withBatch(batch), Kind.GRADIENT) : null;
  }

  /**
   * A buffer the forward pass writes and the backward pass reads (a pre-activation, a dropout
   * mask): lent from this layer's forward pass to its backward pass.
   */
  public Tensor saved(Shape sampleShape) {
    Tensor t = buffers.lend(sampleShape.withBatch(batch), Kind.ACTIVATION);
    buffers.use(t, buffers.forwardTime(position));
    if (training) {
      buffers.use(t, buffers.backwardTime(position));
    }
    return t;
  }

  /**
   * Scratch for the backward pass alone, written before it is read (a gradient nobody wants that a
   * kernel still has to write somewhere): lent for this layer's backward pass.
   */
  public Tensor backwardScratch(Shape sampleShape) {
    Tensor t = buffers.lend(sampleShape.withBatch(batch), Kind.GRADIENT);
    buffers.use(t, training ? buffers.backwardTime(position) : buffers.forwardTime(position));
    return t;
  }
}
