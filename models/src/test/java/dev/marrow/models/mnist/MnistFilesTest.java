package dev.marrow.models.mnist;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class MnistFilesTest {
  @TempDir Path dir;

  @Test
  void whenEverySourceFailsTheErrorListsThemAndHowToFixIt() throws IOException {
    Path cache = dir.resolve("cache");
    List<String> notes = new ArrayList<>();
    // An address on the loopback interface that nothing listens on: refused at once.
    MnistFiles files =
        new MnistFiles(
            MnistFiles.Source.MNIST,
            null,
            cache,
            List.of("http://127.0.0.1:9/mnist/"),
            false,
            notes::add);
    IOException e = assertThrows(IOException.class, files::locate);
    String m = e.getMessage();
    assertTrue(m.contains("cache " + cache + ": no such directory"), m);
    assertTrue(m.contains("mirror http://127.0.0.1:9/mnist/"), m);
    assertTrue(m.contains("To place the files by hand"), m);
    assertEquals(List.of("fetching MNIST from http://127.0.0.1:9/mnist/"), notes);
  }

  @Test
  void aNamedDataDirectoryThatFailsVerificationIsTheErrorNeverAFallBack() throws IOException {
    Path data = Files.createDirectories(dir.resolve("data"));
    Files.write(data.resolve(MnistFiles.File.TRAIN_IMAGES.fileName), new byte[] {1, 2, 3});
    List<String> notes = new ArrayList<>();
    MnistFiles files =
        new MnistFiles(
            MnistFiles.Source.MNIST,
            data,
            dir.resolve("cache"),
            List.of("http://127.0.0.1:9/mnist/"),
            false,
            notes::add);
    IOException e = assertThrows(IOException.class, files::locate);
    assertTrue(
        e.getMessage().startsWith(data + ": train-images-idx3-ubyte has SHA-256"), e.getMessage());
    assertEquals(List.of(), notes, "neither the cache nor a mirror was tried");
  }

  @Test
  void aDirectoryMissingFilesSaysWhich() throws IOException {
    Path data = Files.createDirectories(dir.resolve("partial"));
    MnistFiles files =
        new MnistFiles(MnistFiles.Source.MNIST, data, dir.resolve("c"), List.of(), false, s -> {});
    IOException e = assertThrows(IOException.class, files::locate);
    assertTrue(
        e.getMessage().contains("missing train-images-idx3-ubyte, train-labels-idx1-ubyte"),
        e.getMessage());
  }

  @Test
  void fashionMnistChecksTheGzipDigestsZalandoPublishes() throws IOException {
    Path data = Files.createDirectories(dir.resolve("fashion"));
    for (MnistFiles.File f : MnistFiles.File.values()) {
      byte[] idx =
          f.fileName.contains("images")
              ? IdxReaderTest.images(2, 28, 28)
              : IdxReaderTest.labels(3, 4);
      try (var out =
          new java.util.zip.GZIPOutputStream(
              Files.newOutputStream(data.resolve(f.fileName + ".gz")))) {
        out.write(idx);
      }
    }
    MnistFiles files =
        MnistFiles.offline(MnistFiles.Source.FASHION_MNIST, data, dir.resolve("fc"), s -> {});
    IOException e = assertThrows(IOException.class, files::locate);
    assertTrue(
        e.getMessage().startsWith(data + ": train-images-idx3-ubyte.gz has MD5"), e.getMessage());
    assertTrue(
        e.getMessage().contains("expected 8d4fb7e6c68d591d4c3dfef9ec88bf0d (corrupt or not"),
        e.getMessage());
  }
}
