package dev.marrow.engine.data;

import java.util.SplittableRandom;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.function.LongFunction;

/**
 * The batches of one pass over a data source, in a given order: read on the calling thread for
 * in-memory sources, and one batch ahead on a reader thread for streaming ones, so that disk reads
 * overlap the training step. Memory stays at three batches whatever the data's size. Augmentation,
 * when given, runs where the batch is read, seeded per step.
 */
public final class BatchReader implements AutoCloseable {
  private static final int BUFFERS = 3; // the one training, the one ready, the one being read

  private final DataSource source;
  private final int[] order;
  private final int batchSize;
  private final int steps;
  private final Augmentation augmentation;
  private final LongFunction<SplittableRandom> randomForStep;
  private final Batch inline;
  private final BlockingQueue<Object> ready;
  private final BlockingQueue<Batch> free;
  private final Thread reader;
  private Batch current;
  private int next;

  /**
   * @param order sample order (null: 0, 1, …)
   * @param augmentation null for none; else applied with {@code randomForStep.apply(step)}
   */
  public BatchReader(
      DataSource source,
      int[] order,
      int batchSize,
      Augmentation augmentation,
      LongFunction<SplittableRandom> randomForStep) {
    this.source = source;
    this.order = order;
    this.batchSize = batchSize;
    this.steps = (source.size() + batchSize - 1) / batchSize;
    this.augmentation = augmentation;
    this.randomForStep = randomForStep;
    if (!source.streams()) {
      inline = source.newBatch(batchSize);
      ready = null;
      free = null;
      reader = null;
      return;
    }
    inline = null;
    ready = new ArrayBlockingQueue<>(BUFFERS);
    free = new ArrayBlockingQueue<>(BUFFERS);
    for (int i = 0; i < BUFFERS; i++) {
      free.add(source.newBatch(batchSize));
    }
    reader = Thread.ofPlatform().daemon().name("marrow-batch-reader").start(this::readAll);
  }

  /** Batches in this pass. */
  public int steps() {
    return steps;
  }

  /**
   * The next batch; the previous one returned may be overwritten from now on. Errors of the reader
   * thread (an unreadable file) are thrown here, on the training thread.
   */
  public Batch next() {
    if (next >= steps) {
      throw new IllegalStateException("all " + steps + " batches were read");
    }
    int step = next++;
    if (reader == null) {
      fill(inline, step);
      return inline;
    }
    if (current != null) {
      free.add(current);
    }
    Object taken;
    try {
      taken = ready.take();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while waiting for the next batch", e);
    }
    if (taken instanceof RuntimeException failure) {
      throw failure;
    }
    if (taken instanceof Error failure) {
      throw failure;
    }
    current = (Batch) taken;
    return current;
  }

  private void fill(Batch batch, int step) {
    int from = step * batchSize;
    source.read(order, from, Math.min(batchSize, source.size() - from), batch);
    if (augmentation != null) {
      augmentation.apply(batch, randomForStep.apply(step));
    }
  }

  private void readAll() {
    try {
      for (int step = 0; step < steps; step++) {
        Batch b = free.take();
        fill(b, step);
        ready.put(b);
      }
    } catch (InterruptedException e) {
      // closed before the pass ended
    } catch (RuntimeException | Error e) {
      ready.offer(e);
    }
  }

  /** Stops the reader thread (a pass cut short by an error or early stopping). */
  @Override
  public void close() {
    if (reader != null) {
      reader.interrupt();
      try {
        reader.join();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }
}
