package dev.marrow.models.data;

import static dev.marrow.models.data.ImageFiles.gray;
import static dev.marrow.models.data.ImageFiles.rgb;
import static dev.marrow.models.data.ImageFiles.truncated;
import static dev.marrow.models.data.ImageFiles.write;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.marrow.engine.backend.Activation;
import dev.marrow.engine.backend.cpu.CpuBackend;
import dev.marrow.engine.data.Dataset;
import dev.marrow.engine.loss.SparseCategoricalCrossentropy;
import dev.marrow.engine.nn.Dense;
import dev.marrow.engine.nn.Flatten;
import dev.marrow.engine.nn.Sequential;
import dev.marrow.engine.optim.Adam;
import dev.marrow.engine.tensor.Shape;
import dev.marrow.engine.train.FitOptions;
import dev.marrow.engine.train.Trainer;
import dev.marrow.engine.train.callbacks.ProgressLogger;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ImageFolderTest {
  @TempDir Path dir;

  @Test
  void classesAreTheSortedSubFoldersAndSamplesCarryTheirIndex() throws IOException {
    write(gray(4, 4, (x, y) -> 255), dir.resolve("zebra/1.png"));
    write(rgb(5, 3, (x, y) -> 0x000000), dir.resolve("ant/a.jpg"));
    write(rgb(2, 2, (x, y) -> 0x000000), dir.resolve("ant/b.png"));
    Files.writeString(dir.resolve("ant/.DS_Store"), "hidden: skipped");
    Files.writeString(dir.resolve("README.txt"), "beside the classes: skipped");
    Files.createDirectories(dir.resolve(".cache/x"));

    assertEquals(List.of("ant", "zebra"), ImageFolder.classNames(dir));
    Dataset d = ImageFolder.load(dir, new ImageLoader(2, 2, true));
    assertEquals(3, d.size());
    assertEquals(Shape.of(1, 2, 2), d.sampleShape());
    assertEquals(List.of("ant", "zebra"), d.targets().classNames());
    // Order: ant/a at ¼, zebra/1 at ½, ant/b at ¾.
    assertArrayEquals(new int[] {0, 1, 0}, d.labels());
    assertArrayEquals(
        new float[] {0, 0, 0, 0, 1, 1, 1, 1, 0, 0, 0, 0}, d.features().readArray(), 2 / 255f);
  }

  @Test
  void everyTailHoldsEachClassInItsShare() throws IOException {
    for (int i = 0; i < 8; i++) {
      write(gray(2, 2, (x, y) -> 0), dir.resolve("big/" + i + ".png"));
    }
    for (int i = 0; i < 2; i++) {
      write(gray(2, 2, (x, y) -> 0), dir.resolve("small/" + i + ".png"));
    }
    List<ImageFolder.Entry> entries = ImageFolder.list(dir);
    int[] labels = entries.stream().mapToInt(ImageFolder.Entry::label).toArray();
    assertArrayEquals(new int[] {0, 0, 1, 0, 0, 0, 0, 1, 0, 0}, labels);
    assertEquals(dir.resolve("big/0.png"), entries.get(0).file());
    assertEquals(dir.resolve("small/1.png"), entries.get(7).file());
  }

  @Test
  void emptyFoldersAndMissingClassesAreErrorsNamingTheFolder() throws IOException {
    Path missing = dir.resolve("nope");
    assertEquals(
        missing + ": no such folder; expected a folder with one sub-folder of images per class",
        assertThrows(ImageDataException.class, () -> ImageFolder.classNames(missing)).getMessage());

    Path flat = Files.createDirectory(dir.resolve("flat"));
    write(gray(2, 2, (x, y) -> 0), flat.resolve("a.png"));
    String m = assertThrows(ImageDataException.class, () -> ImageFolder.list(flat)).getMessage();
    assertTrue(
        m.startsWith(flat + ": no class sub-folders (1 files directly inside); expected"), m);

    Path classes = Files.createDirectory(dir.resolve("classes"));
    write(gray(2, 2, (x, y) -> 0), classes.resolve("cat/a.png"));
    Files.createDirectories(classes.resolve("dog"));
    Files.writeString(classes.resolve("dog/.keep"), "");
    assertEquals(
        classes.resolve("dog") + ": empty class folder; expected at least one PNG or JPEG image",
        assertThrows(ImageDataException.class, () -> ImageFolder.list(classes)).getMessage());

    Files.createDirectories(classes.resolve("dog/puppies"));
    m = assertThrows(ImageDataException.class, () -> ImageFolder.list(classes)).getMessage();
    assertTrue(m.startsWith(classes.resolve("dog/puppies") + ": a folder inside a class"), m);
  }

  @Test
  void aBadFileInAClassIsAnErrorNamingIt() throws IOException {
    Path good = write(rgb(8, 8, (x, y) -> 0x123456), dir.resolve("cat/good.jpg"));
    write(rgb(8, 8, (x, y) -> 0x123456), dir.resolve("dog/good.png"));
    ImageLoader loader = new ImageLoader(4, 4, false);
    assertEquals(2, ImageFolder.load(dir, loader).size());

    Path cut = truncated(good, (int) Files.size(good) / 2, dir.resolve("cat/cut.jpg"));
    String m =
        assertThrows(ImageDataException.class, () -> ImageFolder.load(dir, loader)).getMessage();
    assertTrue(m.startsWith(cut + ": damaged or truncated JPEG image"), m);
    Files.delete(cut);

    Path notes = Files.writeString(dir.resolve("dog/notes.txt"), "a dog");
    m = assertThrows(ImageDataException.class, () -> ImageFolder.load(dir, loader)).getMessage();
    assertTrue(m.startsWith(notes + ": not an image"), m);
  }

  @Test
  void aSmallNetworkLearnsStripesFromAFolder() throws IOException {
    SplittableRandom random = new SplittableRandom(3);
    for (int i = 0; i < 40; i++) {
      int phase = random.nextInt(2), colour = random.nextInt(0x1000000);
      write(
          rgb(12, 12, (x, y) -> (y + phase) % 2 == 0 ? colour : 0),
          dir.resolve("horizontal/" + i + ".png"));
      write(
          rgb(12, 12, (x, y) -> (x + phase) % 2 == 0 ? colour : 0),
          dir.resolve("vertical/" + i + ".jpg"));
    }
    Dataset d = ImageFolder.load(dir, new ImageLoader(12, 12, true));
    assertEquals(80, d.size());
    try (CpuBackend cpu = new CpuBackend(2)) {
      Trainer t =
          new Trainer(
              new Sequential(1, 12, 12)
                  .add(new Flatten())
                  .add(new Dense(16, Activation.RELU))
                  .add(new Dense(2))
                  .build(1),
              new Adam(1e-2),
              new SparseCategoricalCrossentropy(true),
              cpu);
      var history =
          t.fit(
              d.slice(0, 60),
              FitOptions.defaults()
                  .epochs(30)
                  .batchSize(16)
                  .verbose(ProgressLogger.Verbosity.SILENT));
      double held = t.evaluate(d.slice(60, 80)).accuracy();
      assertTrue(held >= 0.9, "held-out accuracy " + held + " after " + history);
    }
  }
}
