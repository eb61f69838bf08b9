package dev.marrow.models.data;

import static dev.marrow.models.data.ImageFiles.gray;
import static dev.marrow.models.data.ImageFiles.rgb;
import static dev.marrow.models.data.ImageFiles.truncated;
import static dev.marrow.models.data.ImageFiles.write;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.marrow.engine.tensor.Shape;
import dev.marrow.engine.tensor.Tensor;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ImageLoaderTest {
  @TempDir Path dir;

  @Test
  void grayPngReadsItsStoredValuesAsGrayOrAsThreeEqualChannels() throws IOException {
    Path file = write(gray(3, 2, (x, y) -> 100 * y + 40 * x), dir.resolve("g.png"));
    float[] expected = {0, 40 / 255f, 80 / 255f, 100 / 255f, 140 / 255f, 180 / 255f};
    // Stored values, not Java2D's linear-gray conversion (which reads 100 back as 168).
    assertArrayEquals(expected, new ImageLoader(2, 3, true).read(file));
    float[] rgb = new ImageLoader(2, 3, false).read(file);
    assertEquals(18, rgb.length);
    for (int c = 0; c < 3; c++) {
      for (int i = 0; i < 6; i++) {
        assertEquals(expected[i], rgb[c * 6 + i], "channel " + c + " pixel " + i);
      }
    }
  }

  @Test
  void rgbPngGivesRedGreenBluePlanesOrTheirLuma() throws IOException {
    Path file = write(rgb(2, 1, (x, y) -> x == 0 ? 0xff8000 : 0x0040c0), dir.resolve("c.png"));
    assertArrayEquals(
        new float[] {1, 0, 128 / 255f, 64 / 255f, 0, 192 / 255f},
        new ImageLoader(1, 2, false).read(file));
    float[] luma = new ImageLoader(1, 2, true).read(file);
    assertEquals(0.299f + 0.587f * 128 / 255f, luma[0], 1e-6f);
    assertEquals(0.587f * 64 / 255f + 0.114f * 192 / 255f, luma[1], 1e-6f);
  }

  @Test
  void sixteenBitGrayAndOneBitPalettePngsScaleToTheUnitRange() throws IOException {
    BufferedImage deep = new BufferedImage(2, 1, BufferedImage.TYPE_USHORT_GRAY);
    deep.getRaster().setSample(0, 0, 0, 65535);
    deep.getRaster().setSample(1, 0, 0, 32768);
    Path a = write(deep, dir.resolve("deep.png"));
    assertArrayEquals(new float[] {1, 32768 / 65535f}, new ImageLoader(1, 2, true).read(a));

    BufferedImage bits = new BufferedImage(2, 1, BufferedImage.TYPE_BYTE_BINARY);
    bits.setRGB(1, 0, 0xffffff);
    Path b = write(bits, dir.resolve("bits.png"));
    assertArrayEquals(new float[] {0, 1}, new ImageLoader(1, 2, true).read(b));
  }

  @Test
  void alphaIsDropped() throws IOException {
    BufferedImage img = new BufferedImage(1, 1, BufferedImage.TYPE_INT_ARGB);
    img.setRGB(0, 0, 0x20ff0000); // nearly transparent red
    Path file = write(img, dir.resolve("a.png"));
    assertArrayEquals(new float[] {1, 0, 0}, new ImageLoader(1, 1, false).read(file));
  }

  @Test
  void jpegReadsCloseToWhatWasWritten() throws IOException {
    Path file = write(rgb(16, 16, (x, y) -> 0x3080c0), dir.resolve("flat.jpg"));
    float[] x = new ImageLoader(16, 16, false).read(file);
    for (int i = 0; i < x.length; i++) {
      float want = new float[] {0x30, 0x80, 0xc0}[i / 256] / 255f;
      assertEquals(want, x[i], 3 / 255f, "sample " + i); // JPEG is lossy
    }
  }

  @Test
  void resizesBlocksToTheirMeansAndOneColourStaysThatColour() throws IOException {
    // 8 × 8 of 2 × 2 blocks with values 10 × (4 by + bx) → 4 × 4: each block's value, exactly.
    Path blocks = write(gray(8, 8, (x, y) -> 10 * (4 * (y / 2) + x / 2)), dir.resolve("b.png"));
    float[] small = new ImageLoader(4, 4, true).read(blocks);
    for (int i = 0; i < 16; i++) {
      assertEquals(10 * i / 255f, small[i], 1e-6f);
    }
    Path flat = write(rgb(13, 7, (x, y) -> 0x336699), dir.resolve("flat.png"));
    for (ImageLoader size : List.of(new ImageLoader(3, 5, false), new ImageLoader(20, 31, false))) {
      float[] v = size.read(flat);
      int plane = size.height() * size.width();
      for (int i = 0; i < v.length; i++) {
        assertEquals(new int[] {0x33, 0x66, 0x99}[i / plane] / 255f, v[i], 1e-6f, size + " " + i);
      }
    }
  }

  @Test
  void readsFilesAsABatchAndNamesTheFirstBadOne() throws IOException {
    Path a = write(gray(4, 4, (x, y) -> 255), dir.resolve("a.png"));
    Path b = write(gray(6, 2, (x, y) -> 0), dir.resolve("b.png"));
    ImageLoader loader = new ImageLoader(2, 2, true);
    Tensor t = loader.read(List.of(a, b, a));
    assertEquals(Shape.of(3, 1, 2, 2), t.shape());
    assertArrayEquals(new float[] {1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 1, 1}, t.readArray());
    Path text = Files.writeString(dir.resolve("notes.png"), "not an image");
    Path missing = dir.resolve("gone.png");
    ImageDataException e =
        assertThrows(ImageDataException.class, () -> loader.read(List.of(a, text, missing)));
    assertTrue(e.getMessage().startsWith(text.toString()), e.getMessage());
  }

  // ImageIO returns a truncated JPEG's top rows over grey, and a PNG cut anywhere in its last 20
  // bytes whole: each cut must still be an error that names the file.
  @Test
  void truncatedPngsAndJpegsAreErrorsAtEveryCut() throws IOException {
    BufferedImage noise = rgb(24, 16, (x, y) -> (x * 73 + y * 151) * 0x010203 & 0xffffff);
    for (String name : List.of("noise.png", "noise.jpg")) {
      Path whole = write(noise, dir.resolve(name));
      int length = (int) Files.size(whole);
      new ImageLoader(4, 4, false).read(whole); // the whole file reads
      for (int cut = 1; cut < length; cut++) {
        Path cutFile = truncated(whole, cut, dir.resolve("cut-" + name));
        ImageDataException e =
            assertThrows(
                ImageDataException.class,
                () -> new ImageLoader(4, 4, false).read(cutFile),
                name + " cut to " + cut + " of " + length + " bytes");
        assertTrue(e.getMessage().startsWith(cutFile.toString()), e.getMessage());
      }
    }
  }

  @Test
  void otherFilesAreErrorsThatSayWhatWasExpected() throws IOException {
    ImageLoader loader = new ImageLoader(4, 4, false);
    Path text = Files.writeString(dir.resolve("label.txt"), "cat");
    assertEquals(
        text + ": not an image (no decoder knows its first bytes); expected a PNG or JPEG file",
        assertThrows(ImageDataException.class, () -> loader.read(text)).getMessage());
    Path empty = Files.write(dir.resolve("empty.png"), new byte[0]);
    assertTrue(
        assertThrows(ImageDataException.class, () -> loader.read(empty))
            .getMessage()
            .startsWith(empty + ": not an image"));
    Path gif = dir.resolve("anim.gif");
    assertTrue(ImageIO.write(gray(2, 2, (x, y) -> 0), "gif", gif.toFile()));
    assertEquals(
        gif + ": a GIF image; expected PNG or JPEG",
        assertThrows(ImageDataException.class, () -> loader.read(gif)).getMessage());
    Path missing = dir.resolve("missing.jpg");
    assertEquals(
        missing + ": no such file; expected a PNG or JPEG image",
        assertThrows(ImageDataException.class, () -> loader.read(missing)).getMessage());
  }

  @Test
  void sizesOutsideTheLimitsAreRefused() {
    assertThrows(IllegalArgumentException.class, () -> new ImageLoader(0, 4, true));
    assertThrows(IllegalArgumentException.class, () -> new ImageLoader(4, 5000, true));
  }
}
