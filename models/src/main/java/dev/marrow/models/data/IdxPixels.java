package dev.marrow.models.data;

import java.io.EOFException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedByInterruptException;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * Where {@link IdxSource} copies sample bytes from: a file of at most {@value #MAP_AT_MOST} bytes
 * is memory-mapped (a sample is a copy out of the page cache: streaming MNIST then costs what the
 * in-memory copy does, where a system call per sample cost 29 % of an mlp epoch on 2 cores); a
 * larger one is read with one positional read per run of samples, so that the process's resident
 * memory stays at a batch whatever the file's size (mapped pages count in RSS, and
 * madvise-unloading a randomly read mapping did not keep a 1.5 GB file's RSS under 1.2 GB: each
 * fault maps the pages around it).
 */
abstract sealed class IdxPixels implements AutoCloseable {
  static final long MAP_AT_MOST = 256L << 20;

  /** Overrides {@link #MAP_AT_MOST} (bytes): 0 reads every file with positional reads. */
  static final String MAP_AT_MOST_PROPERTY = "marrow.idx.mapAtMost";

  final Path file;

  IdxPixels(Path file) {
    this.file = file;
  }

  static IdxPixels open(Path file, long fileBytes) throws IOException {
    long mapAtMost = Long.getLong(MAP_AT_MOST_PROPERTY, MAP_AT_MOST);
    return fileBytes <= mapAtMost ? new Mapped(file, fileBytes) : new Positional(file);
  }

  /** Copies {@code length} bytes at {@code position} of the file into {@code into[offset..]}. */
  abstract void copy(long position, byte[] into, int offset, int length);

  @Override
  public abstract void close();

  private static final class Mapped extends IdxPixels {
    private final Arena arena = Arena.ofShared();
    private final MemorySegment bytes;

    Mapped(Path file, long fileBytes) throws IOException {
      super(file);
      try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
        bytes = channel.map(FileChannel.MapMode.READ_ONLY, 0, fileBytes, arena);
      } catch (IOException | RuntimeException e) {
        arena.close();
        throw e;
      }
    }

    @Override
    void copy(long position, byte[] into, int offset, int length) {
      MemorySegment.copy(bytes, ValueLayout.JAVA_BYTE, position, into, offset, length);
    }

    @Override
    public void close() {
      arena.close();
    }
  }

  private static final class Positional extends IdxPixels {
    // pread: one system call per run of samples, where RandomAccessFile takes two (seek, read).
    // Reopened when an interrupt closes it (readAt).
    private FileChannel channel;
    private ByteBuffer scratch = ByteBuffer.allocate(0);

    Positional(Path file) throws IOException {
      super(file);
      channel = FileChannel.open(file, StandardOpenOption.READ);
    }

    @Override
    void copy(long position, byte[] into, int offset, int length) {
      if (scratch.capacity() < length) {
        scratch = ByteBuffer.allocateDirect(length);
      }
      ByteBuffer buffer = scratch.clear().limit(length);
      try {
        while (buffer.hasRemaining()) {
          if (readAt(buffer, position + buffer.position()) < 0) {
            throw new EOFException("the file ends before byte " + (position + buffer.position()));
          }
        }
      } catch (IOException e) {
        throw new UncheckedIOException(file + ": cannot read bytes at " + position, e);
      }
      buffer.get(0, into, offset, length);
    }

    // A FileChannel closes itself when the thread reading it is interrupted, and BatchReader
    // interrupts its reader thread whenever a pass ends early: reopen, read with the interrupt put
    // aside, and hand it back, so that this read and every later epoch still work.
    private int readAt(ByteBuffer into, long position) throws IOException {
      try {
        return channel.read(into, position);
      } catch (ClosedByInterruptException e) {
        boolean interrupted = Thread.interrupted();
        try {
          channel = FileChannel.open(file, StandardOpenOption.READ);
          return channel.read(into, position);
        } finally {
          if (interrupted) {
            Thread.currentThread().interrupt();
          }
        }
      }
    }

    @Override
    public void close() {
      try {
        channel.close();
      } catch (IOException e) {
        throw new UncheckedIOException(file + ": cannot close it", e);
      }
    }
  }
}
