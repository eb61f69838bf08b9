package dev.marrow.engine.tensor;

import java.lang.foreign.MemorySegment;
import java.util.Arrays;
import java.util.Objects;

/**
 * A float32 tensor: an immutable shape over storage that lives on the host and, on an accelerator
 * backend, also in device memory (see {@code Storage} for when copies happen).
 *
 * <p>Host tensors keep their elements in a {@code float[]} exposed as a heap {@link MemorySegment},
 * so the same bytes can be handed to native code (CBLAS, a host emulation) without copies, while
 * the Vector API kernels index the array directly ({@code FloatVector.fromArray} is the access path
 * the JIT bounds-check-eliminates most reliably; the JMH suite is where that choice gets
 * re-checked).
 */
public final class Tensor {
  private final Shape shape;
  private final Storage storage;
  private MemorySegment segment;

  private Tensor(Shape shape, Storage storage) {
    this.shape = shape;
    this.storage = storage;
  }

  /** A zero-filled host tensor. */
  public static Tensor zeros(Shape shape) {
    return new Tensor(shape, new Storage(new float[shape.size()]));
  }

  public static Tensor zeros(int... dims) {
    return zeros(Shape.of(dims));
  }

  /**
   * A tensor born in device memory (the buffer must already be zero-filled); its host copy is
   * allocated the first time host code asks for it.
   */
  public static Tensor onDevice(Shape shape, DeviceBuffer buffer) {
    return new Tensor(shape, new Storage(shape.size(), Objects.requireNonNull(buffer, "buffer")));
  }

  /**
   * A tensor without memory yet, for a plan that decides where its buffers live once it knows their
   * lifetimes: {@link #bindTo} gives it memory (and so its reshaped views); until then any access
   * to its elements fails.
   */
  public static Tensor unbound(Shape shape) {
    return new Tensor(shape, new Storage(shape.size()));
  }

  /**
   * Gives an {@link #unbound} tensor the first {@link #size()} elements of {@code memory}'s
   * storage, which other tensors may share: the caller guarantees they are never in use at the same
   * time. {@link #array()} is then {@code memory}'s array, possibly longer than this tensor:
   * kernels index {@code [0, size())}.
   */
  public void bindTo(Tensor memory) {
    storage.bind(memory.storage);
  }

  /** True while this tensor has no memory (made {@link #unbound} and not bound yet). */
  public boolean isUnbound() {
    return storage.isUnbound();
  }

  /** True when both tensors see the same elements: one is a reshaped view of the other. */
  public boolean sharesStorageWith(Tensor other) {
    return storage == other.storage;
  }

  /** Wraps (does not copy) {@code data}; its length must match the shape. */
  public static Tensor wrap(float[] data, Shape shape) {
    Objects.requireNonNull(data, "data");
    if (data.length != shape.size()) {
      throw new IllegalArgumentException(
          "shape " + shape + " needs " + shape.size() + " elements, got " + data.length);
    }
    return new Tensor(shape, new Storage(data));
  }

  public static Tensor of(float[] data, int... dims) {
    return wrap(data, Shape.of(dims));
  }

  public Shape shape() {
    return shape;
  }

  public int size() {
    return storage.size();
  }

  /**
   * The host array, current, for kernels and code that may write it (a device copy, if any, is
   * refreshed from it before the next device kernel).
   */
  public float[] array() {
    return storage.hostForWriting();
  }

  /** The host array, current, for code that only reads it (keeps a device copy valid). */
  public float[] readArray() {
    return storage.hostForReading();
  }

  /** The host storage as a memory segment, for native code that writes it (CBLAS, tests). */
  public MemorySegment segment() {
    float[] a = array();
    if (segment == null || segment.heapBase().orElse(null) != a) {
      segment = MemorySegment.ofArray(a);
      if (a.length != size()) { // a plan's buffer lent part of a longer one
        segment = segment.asSlice(0, 4L * size());
      }
    }
    return segment;
  }

  // ---- device copies (backends only) ---------------------------------------------------------

  /** The device copy, or null for a tensor that lives on the host only. */
  public DeviceBuffer deviceBuffer() {
    return storage.device();
  }

  /** Gives a host tensor a device copy (filled from the host before its first kernel). */
  public void attachDevice(DeviceBuffer buffer) {
    storage.attach(Objects.requireNonNull(buffer, "buffer"));
  }

  /** The device copy for a kernel that reads this tensor. */
  public DeviceBuffer deviceForReading() {
    return storage.deviceForReading();
  }

  /** The device copy for a kernel that reads and writes this tensor. */
  public DeviceBuffer deviceForWriting() {
    return storage.deviceForWriting();
  }

  /** The device copy for a kernel that overwrites every element without reading. */
  public DeviceBuffer deviceForOverwriting() {
    return storage.deviceForOverwriting();
  }

  /** Copies the elements to the host and frees the device copy (a no-op for host tensors). */
  public void releaseDevice() {
    storage.releaseDevice();
  }

  public float get(int flatIndex) {
    return readArray()[flatIndex];
  }

  public void set(int flatIndex, float value) {
    array()[flatIndex] = value;
  }

  /** The same storage seen through another shape with the same element count. */
  public Tensor reshape(Shape newShape) {
    if (newShape.size() != size()) {
      throw new IllegalArgumentException("cannot reshape " + shape + " to " + newShape);
    }
    return new Tensor(newShape, storage);
  }

  /** A host copy. */
  public Tensor copy() {
    return new Tensor(shape, new Storage(toArray()));
  }

  public void copyFrom(Tensor other) {
    if (other.size() != size()) {
      throw new IllegalArgumentException("cannot copy " + other.shape + " into " + shape);
    }
    System.arraycopy(other.readArray(), 0, array(), 0, size());
  }

  public float[] toArray() {
    return Arrays.copyOf(readArray(), size());
  }

  @Override
  public String toString() {
    return "Tensor" + shape;
  }
}
