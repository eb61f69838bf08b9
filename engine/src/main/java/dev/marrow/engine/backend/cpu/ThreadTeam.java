package dev.marrow.engine.backend.cpu;

import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
import java.util.concurrent.locks.ReentrantLock;

/**
 * A fixed team of threads for data-parallel loops: the calling thread plus {@code size − 1} daemon
 * workers. A loop is cut into chunks that the members take in turn.
 *
 * <p>Why not ForkJoinPool: a training step runs a few dozen small kernels, so the hand-off must
 * cost microseconds and allocate nothing. Workers spin briefly after a loop (the next kernel
 * usually follows at once) and then park, so an idle team costs no CPU.
 *
 * <p>One loop runs at a time. A second thread that calls {@link #parallelFor} while a loop is in
 * flight runs its loop on its own thread instead of waiting, which keeps concurrent inference from
 * many threads safe and deadlock-free.
 */
public final class ThreadTeam implements AutoCloseable {

  /** The body of a loop over [begin, end). */
  @FunctionalInterface
  public interface RangeBody {
    void run(int begin, int end);
  }

  /**
   * How long a worker spins for the next loop before parking. Between two training steps the
   * trainer copies the next batch (~60 µs for the MLP at batch 128): with a 50 µs spin the worker
   * had parked by then and every step paid a wake-up; 500 µs took that MLP's epoch (a bare fit loop
   * over 60,000 samples, median of 7 epochs) from 0.285 to 0.25 s. OpenMP runtimes spin far longer
   * by default.
   */
  private static final long SPIN_NANOS = 500_000;

  private final int size;
  private final Thread[] workers;
  private final ReentrantLock running = new ReentrantLock();
  private final AtomicInteger nextChunk = new AtomicInteger();
  private final AtomicInteger unfinishedWorkers = new AtomicInteger();
  private volatile int generation;
  private volatile boolean closed;
  private volatile Throwable failure;

  // The current loop; written before generation is bumped, so workers see them after reading it.
  private RangeBody body;
  private int total;
  private int chunkSize;
  private int chunks;

  public ThreadTeam(int size) {
    if (size < 1) {
      throw new IllegalArgumentException("thread count must be at least 1, got " + size);
    }
    this.size = size;
    this.workers = new Thread[size - 1];
    for (int i = 0; i < workers.length; i++) {
      Thread t = new Thread(this::workerLoop, "marrow-cpu-" + (i + 1));
      t.setDaemon(true);
      workers[i] = t;
      t.start();
    }
  }

  public int size() {
    return size;
  }

  /** The workers, not the calling thread: for measurements per thread (CPU time, allocation). */
  public List<Thread> workers() {
    return List.of(workers);
  }

  /**
   * Runs body over [0, n) cut into at most {@code size × 4} chunks of at least {@code minChunk}
   * iterations. Chunk boundaries depend only on n, minChunk and the team size, never on timing, so
   * kernels that reduce per chunk stay deterministic.
   */
  public void parallelFor(int n, int minChunk, RangeBody body) {
    if (n <= 0) {
      return;
    }
    if (closed) {
      throw new IllegalStateException("this backend's thread team is closed");
    }
    int maxChunks = Math.max(1, Math.min(size * 4, n / Math.max(1, minChunk)));
    // A loop started from inside a loop (or while another thread's loop runs) stays on this thread.
    if (size == 1 || maxChunks == 1 || running.isHeldByCurrentThread() || !running.tryLock()) {
      body.run(0, n);
      return;
    }
    try {
      this.body = body;
      this.total = n;
      this.chunkSize = (n + maxChunks - 1) / maxChunks;
      this.chunks = (n + chunkSize - 1) / chunkSize;
      this.failure = null;
      nextChunk.set(0);
      unfinishedWorkers.set(workers.length);
      generation++;
      for (Thread w : workers) {
        LockSupport.unpark(w);
      }
      runChunks();
      while (unfinishedWorkers.get() != 0) {
        Thread.onSpinWait();
      }
      this.body = null;
      Throwable t = failure;
      if (t != null) {
        if (t instanceof RuntimeException r) {
          throw r;
        }
        if (t instanceof Error e) {
          throw e;
        }
        throw new IllegalStateException(t);
      }
    } finally {
      running.unlock();
    }
  }

  /**
   * Runs body over [0, n) on the calling thread when n is below {@code serialBelow} (a hand-off
   * costs more than small work), else over the team in chunks of at least serialBelow / 4.
   */
  public void forRange(int n, int serialBelow, RangeBody body) {
    if (n < serialBelow) {
      body.run(0, n);
    } else {
      parallelFor(n, serialBelow / 4, body);
    }
  }

  private void runChunks() {
    try {
      for (int c; (c = nextChunk.getAndIncrement()) < chunks; ) {
        int begin = c * chunkSize;
        body.run(begin, Math.min(total, begin + chunkSize));
      }
    } catch (Throwable t) {
      failure = t;
      nextChunk.set(Integer.MAX_VALUE / 2);
    }
  }

  private void workerLoop() {
    int seen = 0;
    while (!closed) {
      int g = generation;
      if (g == seen) {
        long spinUntil = System.nanoTime() + SPIN_NANOS;
        while (generation == seen && !closed) {
          if (System.nanoTime() < spinUntil) {
            Thread.onSpinWait();
          } else {
            LockSupport.park(this);
          }
        }
        continue;
      }
      seen = g;
      runChunks();
      unfinishedWorkers.decrementAndGet();
    }
  }

  @Override
  public void close() {
    closed = true;
    for (Thread w : workers) {
      LockSupport.unpark(w);
    }
  }
}
