package dev.marrow.engine.tensor;

import java.util.Arrays;

/**
 * Immutable tensor shape, row-major. {@code Shape.of(32, 1, 28, 28)} is a batch of MNIST images.
 */
public record Shape(int[] dims) {

  public Shape {
    dims = dims.clone();
    for (int d : dims) {
      if (d < 0) {
        throw new IllegalArgumentException("negative dimension in shape " + Arrays.toString(dims));
      }
    }
  }

  public static Shape of(int... dims) {
    return new Shape(dims);
  }

  public int rank() {
    return dims.length;
  }

  public int dim(int axis) {
    return dims[axis < 0 ? dims.length + axis : axis];
  }

  @Override
  public int[] dims() {
    return dims.clone();
  }

  /** Number of elements; fails rather than wrap when it does not fit an int. */
  public int size() {
    long n = 1;
    for (int d : dims) {
      n *= d;
      if (n > Integer.MAX_VALUE) {
        throw new IllegalArgumentException("shape " + this + " has more than 2^31-1 elements");
      }
    }
    return (int) n;
  }

  /** The shape with a leading batch dimension added: (28, 28) → (batch, 28, 28). */
  public Shape withBatch(int batch) {
    int[] d = new int[dims.length + 1];
    d[0] = batch;
    System.arraycopy(dims, 0, d, 1, dims.length);
    return new Shape(d);
  }

  /**
   * Checks that {@code batch} is a batch of samples of this shape, (N, this…); fails naming the
   * caller ({@code what}) and both shapes.
   */
  public void requireBatchOf(Shape batch, String what) {
    if (batch.rank() != rank() + 1 || !batch.dropFirst().equals(this)) {
      throw new IllegalArgumentException(
          what + " expects inputs of shape (N, " + toString().substring(1) + ", got " + batch);
    }
  }

  /** The shape without its leading dimension. */
  public Shape dropFirst() {
    return new Shape(Arrays.copyOfRange(dims, 1, dims.length));
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof Shape s && Arrays.equals(dims, s.dims);
  }

  @Override
  public int hashCode() {
    return Arrays.hashCode(dims);
  }

  @Override
  public String toString() {
    StringBuilder b = new StringBuilder("(");
    for (int i = 0; i < dims.length; i++) {
      if (i > 0) {
        b.append(", ");
      }
      b.append(dims[i]);
    }
    return b.append(dims.length == 1 ? ",)" : ")").toString();
  }
}
