package dev.marrow.models.data;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import javax.imageio.ImageIO;
import javax.imageio.ImageReader;
import javax.imageio.stream.ImageInputStream;

/**
 * Decodes one PNG or JPEG file strictly: whatever ImageIO would pass over quietly is an error. Its
 * JPEG reader returns a truncated file's top rows over grey and only warns ("Premature end of JPEG
 * file"), so warnings count as errors; its PNG reader returns the whole image when only the zlib
 * checksum, the last chunk's CRC or the IEND chunk is cut off, so a PNG must end with IEND.
 */
final class ImageDecoder {
  /** A decompression bomb's header can claim any size; 64 megapixels is a large photo. */
  static final long MAX_PIXELS = 64L * 1024 * 1024;

  private static final byte[] PNG_END = {
    0, 0, 0, 0, 'I', 'E', 'N', 'D', (byte) 0xae, 0x42, 0x60, (byte) 0x82
  };

  private ImageDecoder() {}

  static BufferedImage decode(Path file) throws ImageDataException {
    if (!Files.isRegularFile(file)) {
      throw new ImageDataException(file + ": no such file; expected a PNG or JPEG image");
    }
    try (ImageInputStream in = ImageIO.createImageInputStream(file.toFile())) {
      if (in == null) {
        throw new ImageDataException(file + ": cannot be opened as an image stream");
      }
      Iterator<ImageReader> readers = ImageIO.getImageReaders(in);
      if (!readers.hasNext()) {
        throw new ImageDataException(
            file
                + ": not an image (no decoder knows its first bytes); expected a PNG or JPEG file");
      }
      ImageReader reader = readers.next();
      try {
        return decode(file, in, reader);
      } finally {
        reader.dispose();
      }
    } catch (ImageDataException e) {
      throw e;
    } catch (IOException e) {
      throw new ImageDataException(file + ": cannot be read (" + e.getMessage() + ")", e);
    }
  }

  private static BufferedImage decode(Path file, ImageInputStream in, ImageReader reader)
      throws IOException {
    String format = reader.getFormatName().toUpperCase(Locale.ROOT);
    if (!format.equals("PNG") && !format.equals("JPEG")) {
      throw new ImageDataException(file + ": a " + format + " image; expected PNG or JPEG");
    }
    List<String> warnings = new ArrayList<>();
    BufferedImage image;
    try {
      reader.setInput(in, true, true);
      reader.addIIOReadWarningListener((source, warning) -> warnings.add(warning));
      long pixels = (long) reader.getWidth(0) * reader.getHeight(0);
      if (pixels > MAX_PIXELS) {
        throw new ImageDataException(
            file
                + ": "
                + reader.getWidth(0)
                + "×"
                + reader.getHeight(0)
                + " pixels; expected at most "
                + MAX_PIXELS / (1024 * 1024)
                + " megapixels");
      }
      image = reader.read(0);
    } catch (ImageDataException e) {
      throw e;
    } catch (IOException | RuntimeException e) {
      throw new ImageDataException(
          file + ": damaged or truncated " + format + " image (" + e.getMessage() + ")", e);
    }
    if (!warnings.isEmpty()) {
      throw new ImageDataException(
          file
              + ": damaged or truncated "
              + format
              + " image ("
              + String.join("; ", warnings)
              + "); expected a complete image");
    }
    if (format.equals("PNG") && !endsWith(file, PNG_END)) {
      throw new ImageDataException(
          file + ": truncated PNG image; expected the file to end with the IEND chunk");
    }
    return image;
  }

  private static boolean endsWith(Path file, byte[] tail) throws IOException {
    try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "r")) {
      if (f.length() < tail.length) {
        return false;
      }
      byte[] last = new byte[tail.length];
      f.seek(f.length() - tail.length);
      f.readFully(last);
      return Arrays.equals(last, tail);
    }
  }
}
