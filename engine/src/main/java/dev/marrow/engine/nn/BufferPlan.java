package dev.marrow.engine.nn;

import dev.marrow.engine.backend.Backend;
import dev.marrow.engine.tensor.Shape;
import dev.marrow.engine.tensor.Tensor;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;

/**
 * The batch-sized buffers of one plan and when each is in use, on the clock a training step runs
 * by: the forward pass of layer i at time i, the loss at n, the backward pass of layer i at 2n − i
 * (n layers), and {@link #keep} past the step. Layers ask for buffers through their {@link
 * CompileContext}; the plan records every read and write it knows of ({@link #use}); {@link #bind}
 * then gives each lent buffer memory. A buffer lives from its first use to its last, both included,
 * so two buffers touched by the same kernel never share memory.
 *
 * <p>With reuse, buffers whose lifetimes do not overlap share one block of memory, each taking the
 * first elements of a block at least its size (a view: same storage, its own shape). Blocks are
 * assigned greedily: in each of a few orders (largest first, as TensorFlow Lite's "greedy by size"
 * arena planner; by first use; by last use; longest lifetime first) every buffer goes to the
 * smallest block free for its whole lifetime that it fits, else grows the largest free one, else
 * gets a new one; the order needing least memory wins. Blocks rather than offsets into one arena,
 * because a kernel indexes a buffer from element 0. Without reuse every buffer gets its own memory,
 * as every plan did before.
 */
public final class BufferPlan {
  /** What a buffer holds, for {@link #bytes} and {@link #sharedBytes}. */
  public enum Kind {
    ACTIVATION,
    GRADIENT
  }

  private final Backend backend;
  private final int layers;
  private final List<Lent> lent = new ArrayList<>();
  private final Map<Tensor, Lent> byTensor = new IdentityHashMap<>();
  private final long[] ownBytes = new long[Kind.values().length];
  private final List<Tensor> memories = new ArrayList<>();
  private long allocatedBytes = -1;

  private static final class Lent {
    final Tensor tensor;
    final Kind kind;
    final int size;
    int first = Integer.MAX_VALUE;
    int last = Integer.MIN_VALUE;

    Lent(Tensor tensor, Kind kind) {
      this.tensor = tensor;
      this.kind = kind;
      this.size = tensor.size();
    }

    boolean overlaps(Lent o) {
      return first <= o.last && o.first <= last;
    }
  }

  /** The buffers of a plan running {@code layers} layer steps on {@code backend}. */
  public BufferPlan(Backend backend, int layers) {
    this.backend = backend;
    this.layers = layers;
  }

  public Backend backend() {
    return backend;
  }

  /** When layer {@code position}'s forward pass runs. */
  public int forwardTime(int position) {
    return position;
  }

  /** When the loss reads the outputs and writes their gradients. */
  public int lossTime() {
    return layers;
  }

  /** When layer {@code position}'s backward pass runs. */
  public int backwardTime(int position) {
    return 2 * layers - position;
  }

  /** A buffer with memory of its own for the plan's whole life. */
  public Tensor own(Shape shape, Kind kind) {
    ownBytes[kind.ordinal()] += 4L * shape.size();
    return backend.allocate(shape);
  }

  /** A buffer without memory until {@link #bind}, which gives it memory for its recorded uses. */
  public Tensor lend(Shape shape, Kind kind) {
    requireOpen();
    Tensor t = Tensor.unbound(shape);
    Lent l = new Lent(t, kind);
    lent.add(l);
    byTensor.put(t, l);
    return t;
  }

  /**
   * Records that {@code t} (or the lent buffer it is a reshaped view of) is read or written at
   * {@code time}. Tensors this plan did not lend (own buffers, parameters, the plan's input) and
   * null are ignored.
   */
  public void use(Tensor t, int time) {
    if (t == null) {
      return;
    }
    requireOpen();
    Lent l = byTensor.get(t);
    if (l == null) {
      for (Lent candidate : lent) {
        if (candidate.tensor.sharesStorageWith(t)) {
          l = candidate;
          byTensor.put(t, l);
          break;
        }
      }
    }
    if (l != null) {
      l.first = Math.min(l.first, time);
      l.last = Math.max(l.last, time);
    }
  }

  /** Keeps {@code t}'s buffer alive after the step: callers read it (a model's outputs). */
  public void keep(Tensor t) {
    use(t, 2 * layers + 1);
  }

  /**
   * Gives every lent buffer memory, shared between buffers whose lifetimes do not overlap when
   * {@code reuse} is on. A buffer nobody uses gets memory too (it lives at time 0). Call once.
   */
  public void bind(boolean reuse) {
    requireOpen();
    for (Lent l : lent) {
      if (l.first > l.last) {
        l.first = l.last = 0;
      }
    }
    long bytes = ownBytes[0] + ownBytes[1];
    if (reuse) {
      for (Block block : assign(lent)) {
        Tensor memory = backend.allocate(Shape.of(block.capacity));
        memories.add(memory);
        bytes += 4L * block.capacity;
        for (Lent l : block.members) {
          l.tensor.bindTo(memory);
        }
      }
    } else {
      for (Lent l : lent) {
        Tensor memory = backend.allocate(Shape.of(l.size));
        memories.add(memory);
        l.tensor.bindTo(memory);
        bytes += 4L * l.size;
      }
    }
    allocatedBytes = bytes;
  }

  /** Buffers with pairwise disjoint lifetimes sharing one block of memory of {@code capacity}. */
  static final class Block {
    int capacity;
    final List<Lent> members = new ArrayList<>();

    boolean freeFor(Lent l) {
      for (Lent m : members) {
        if (m.overlaps(l)) {
          return false;
        }
      }
      return true;
    }
  }

  /**
   * The orders {@code assign} tries: largest first (TensorFlow Lite's "greedy by size"), by first
   * use, by last use from the end of the step back, longest lifetime first. Neither wins
   * everywhere: for the zoo's resnet training at batch 128, last use needs 144.0 MiB where largest
   * first needs 150.1 (126.0 are ever live at once); for its inference they tie at the floor.
   */
  private static final List<Comparator<Lent>> ORDERS =
      List.of(
          Comparator.comparingInt((Lent l) -> -l.size).thenComparingInt(l -> l.first),
          Comparator.comparingInt((Lent l) -> l.first).thenComparingInt(l -> -l.size),
          Comparator.comparingInt((Lent l) -> -l.last).thenComparingInt(l -> -l.size),
          Comparator.comparingInt((Lent l) -> l.first - l.last).thenComparingInt(l -> -l.size));

  /**
   * Blocks for the buffers: for each of a few orders, every buffer in turn goes into the smallest
   * block free for its whole life that it fits, else into the largest free block, grown, else into
   * a new one; the order needing least memory wins. Compile-time work only: quadratic in the
   * buffers, a few hundred for a ResNet.
   */
  static List<Block> assign(List<Lent> buffers) {
    List<Block> best = null;
    for (Comparator<Lent> order : ORDERS) {
      List<Lent> sorted = new ArrayList<>(buffers);
      sorted.sort(order);
      List<Block> blocks = greedy(sorted);
      if (best == null || capacity(blocks) < capacity(best)) {
        best = blocks;
      }
    }
    return best;
  }

  private static List<Block> greedy(List<Lent> order) {
    List<Block> blocks = new ArrayList<>();
    for (Lent l : order) {
      Block fits = null, largest = null;
      for (Block block : blocks) {
        if (!block.freeFor(l)) {
          continue;
        }
        if (block.capacity >= l.size) {
          if (fits == null || block.capacity < fits.capacity) {
            fits = block;
          }
        } else if (largest == null || block.capacity > largest.capacity) {
          largest = block;
        }
      }
      Block chosen = fits != null ? fits : largest;
      if (chosen == null) {
        chosen = new Block();
        blocks.add(chosen);
      }
      chosen.capacity = Math.max(chosen.capacity, l.size);
      chosen.members.add(l);
    }
    return blocks;
  }

  private static long capacity(List<Block> blocks) {
    long c = 0;
    for (Block b : blocks) {
      c += b.capacity;
    }
    return c;
  }

  /**
   * Sets every element of the lent buffers' memory to {@code value}: a test that fills it with NaN
   * between steps finds any layer that reads a lent buffer before writing it in a step, or expects
   * it to keep anything from one step to the next.
   */
  public void fill(float value) {
    requireBound();
    for (Tensor memory : memories) {
      java.util.Arrays.fill(memory.array(), value);
    }
  }

  /** Bytes of the buffers of one kind, each in memory of its own: the plan without reuse. */
  public long bytes(Kind kind) {
    long b = ownBytes[kind.ordinal()];
    for (Lent l : lent) {
      if (l.kind == kind) {
        b += 4L * l.size;
      }
    }
    return b;
  }

  /**
   * Bytes the buffers of one kind take when they share memory among themselves only (activations
   * with activations, gradients with gradients); {@link #allocatedBytes} lets kinds share too.
   * Valid after {@link #bind}, whether or not it reused memory.
   */
  public long sharedBytes(Kind kind) {
    requireBound();
    List<Lent> ofKind = new ArrayList<>();
    for (Lent l : lent) {
      if (l.kind == kind) {
        ofKind.add(l);
      }
    }
    return ownBytes[kind.ordinal()] + 4L * capacity(assign(ofKind));
  }

  /**
   * The most bytes of buffers ever in use at once, own buffers included: what no way of sharing
   * memory can go below (blocks of whole buffers may stay above it).
   */
  public long livePeakBytes() {
    requireBound();
    long peak = 0;
    for (int t = 0; t <= 2 * layers + 1; t++) {
      long live = 0;
      for (Lent l : lent) {
        if (l.first <= t && t <= l.last) {
          live += 4L * l.size;
        }
      }
      peak = Math.max(peak, live);
    }
    return peak + ownBytes[0] + ownBytes[1];
  }

  /** Bytes of batch-sized buffers this plan allocated, after {@link #bind}. */
  public long allocatedBytes() {
    requireBound();
    return allocatedBytes;
  }

  private void requireOpen() {
    if (allocatedBytes >= 0) {
      throw new IllegalStateException("the plan's buffers are already bound");
    }
  }

  private void requireBound() {
    if (allocatedBytes < 0) {
      throw new IllegalStateException("the plan's buffers are not bound yet");
    }
  }
}
