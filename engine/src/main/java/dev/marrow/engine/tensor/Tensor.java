package dev.marrow.engine.tensor;

import java.lang.foreign.MemorySegment;
import java.util.Objects;

/**
 * A float32 tensor: an immutable shape over storage owned by one backend's device.
 *
 * <p>Host tensors keep their elements in a {@code float[]} exposed as a heap {@link MemorySegment},
 * so the same bytes can be handed to native code (CBLAS, a host emulation) without copies, while the
 * Vector API kernels index the array directly ({@code FloatVector.fromArray} is the access path the
 * JIT bounds-check-eliminates most reliably; the JMH suite is where that choice gets re-checked).
 */
public final class Tensor {
  private final Shape shape;
  private final float[] data;
  private final MemorySegment segment;

  private Tensor(Shape shape, float[] data) {
    this.shape = shape;
    this.data = data;
    this.segment = MemorySegment.ofArray(data);
  }

  /** A zero-filled host tensor. */
  public static Tensor zeros(Shape shape) {
    return new Tensor(shape, new float[shape.size()]);
  }

  public static Tensor zeros(int... dims) {
    return zeros(Shape.of(dims));
  }

  /** Wraps (does not copy) {@code data}; its length must match the shape. */
  public static Tensor wrap(float[] data, Shape shape) {
    Objects.requireNonNull(data, "data");
    if (data.length != shape.size()) {
      throw new IllegalArgumentException(
          "shape " + shape + " needs " + shape.size() + " elements, got " + data.length);
    }
    return new Tensor(shape, data);
  }

  public static Tensor of(float[] data, int... dims) {
    return wrap(data, Shape.of(dims));
  }

  public Shape shape() {
    return shape;
  }

  public int size() {
    return data.length;
  }

  /** The backing array of a host tensor; kernels index it directly. */
  public float[] array() {
    return data;
  }

  /** The storage as a memory segment (heap-backed for host tensors). */
  public MemorySegment segment() {
    return segment;
  }

  public float get(int flatIndex) {
    return data[flatIndex];
  }

  public void set(int flatIndex, float value) {
    data[flatIndex] = value;
  }

  /** The same storage seen through another shape with the same element count. */
  public Tensor reshape(Shape newShape) {
    if (newShape.size() != data.length) {
      throw new IllegalArgumentException("cannot reshape " + shape + " to " + newShape);
    }
    return new Tensor(newShape, data);
  }

  public Tensor copy() {
    return new Tensor(shape, data.clone());
  }

  public void copyFrom(Tensor other) {
    if (other.size() != size()) {
      throw new IllegalArgumentException("cannot copy " + other.shape + " into " + shape);
    }
    System.arraycopy(other.data, 0, data, 0, data.length);
  }

  public float[] toArray() {
    return data.clone();
  }

  @Override
  public String toString() {
    return "Tensor" + shape;
  }
}
