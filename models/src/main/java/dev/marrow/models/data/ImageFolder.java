package dev.marrow.models.data;

import dev.marrow.engine.data.Dataset;
import dev.marrow.engine.tensor.Tensor;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

/**
 * A folder of images sorted into one sub-folder per class, as Keras' {@code
 * image_dataset_from_directory} reads it: the sub-folders' names, sorted, are the class names, and
 * every file in sub-folder i is an image of class i.
 *
 * <pre>
 *   photos/cat/001.jpg   photos/cat/002.png   photos/dog/a.jpg ...   →  classes [cat, dog]
 * </pre>
 *
 * <p>Hidden entries (names starting with '.', such as .DS_Store) are skipped, and so are plain
 * files directly in the top folder (a README beside the classes). Anything else that is not a
 * readable PNG or JPEG is an {@link ImageDataException} naming it: an empty class folder, a folder
 * inside a class folder, a file of another kind, a damaged or truncated image.
 *
 * <p>Samples are ordered so that any tail of the data set (a validation or test split taken by
 * fraction) holds every class in about its share: file j of a class of n files sits at (j + ½) / n
 * of the way through, classes interleaved. Within a class, files are in name order.
 */
public final class ImageFolder {
  /** One image file and its class index. */
  public record Entry(Path file, int label) {}

  private ImageFolder() {}

  /** The class names: the sub-folders' names, sorted. */
  public static List<String> classNames(Path dir) throws IOException {
    if (!Files.isDirectory(dir)) {
      throw new ImageDataException(
          dir + ": no such folder; expected a folder with one sub-folder of images per class");
    }
    List<String> names;
    int looseFiles;
    try (Stream<Path> entries = Files.list(dir)) {
      List<Path> visible = entries.filter(p -> !hidden(p)).toList();
      names =
          visible.stream()
              .filter(Files::isDirectory)
              .map(p -> p.getFileName().toString())
              .sorted()
              .toList();
      looseFiles = visible.size() - names.size();
    }
    if (names.isEmpty()) {
      throw new ImageDataException(
          dir
              + ": no class sub-folders"
              + (looseFiles > 0 ? " (" + looseFiles + " files directly inside)" : "")
              + "; expected one sub-folder of PNG or JPEG images per class, e.g. "
              + dir.resolve("cat")
              + ", "
              + dir.resolve("dog"));
    }
    return names;
  }

  /** Every image file with its class, in sample order (see the class comment). */
  public static List<Entry> list(Path dir) throws IOException {
    return entries(dir, classNames(dir));
  }

  /** Reads every image as {@code loader} says into a data set named by the class folders. */
  public static Dataset load(Path dir, ImageLoader loader) throws IOException {
    List<String> names = classNames(dir);
    List<Entry> entries = entries(dir, names);
    Tensor x = loader.read(entries.stream().map(Entry::file).toList()); // (N, C, H, W)
    int[] labels = entries.stream().mapToInt(Entry::label).toArray();
    return new Dataset(x, labels, names);
  }

  private static List<Entry> entries(Path dir, List<String> names) throws IOException {
    List<List<Path>> byClass = new ArrayList<>();
    for (String name : names) {
      byClass.add(imageFiles(dir.resolve(name)));
    }
    return interleave(byClass);
  }

  private static List<Path> imageFiles(Path classDir) throws IOException {
    List<Path> files;
    try (Stream<Path> entries = Files.list(classDir)) {
      files = entries.filter(p -> !hidden(p)).sorted().toList();
    }
    for (Path p : files) {
      if (Files.isDirectory(p)) {
        throw new ImageDataException(
            p + ": a folder inside a class folder; expected only PNG or JPEG files in " + classDir);
      }
    }
    if (files.isEmpty()) {
      throw new ImageDataException(
          classDir + ": empty class folder; expected at least one PNG or JPEG image");
    }
    return files;
  }

  // File j of class c (n_c files) goes at (j + ½) / n_c; ties in class order.
  private static List<Entry> interleave(List<List<Path>> byClass) {
    List<Entry> out = new ArrayList<>();
    int[] next = new int[byClass.size()];
    int total = byClass.stream().mapToInt(List::size).sum();
    for (int k = 0; k < total; k++) {
      int best = -1;
      for (int c = 0; c < byClass.size(); c++) {
        if (next[c] < byClass.get(c).size()
            && (best < 0
                || earlier(next[c], byClass.get(c).size(), next[best], byClass.get(best).size()))) {
          best = c;
        }
      }
      out.add(new Entry(byClass.get(best).get(next[best]), best));
      next[best]++;
    }
    return out;
  }

  // (i + ½) / n < (j + ½) / m, exactly.
  private static boolean earlier(int i, int n, int j, int m) {
    return (2L * i + 1) * m < (2L * j + 1) * n;
  }

  private static boolean hidden(Path p) {
    return p.getFileName().toString().startsWith(".");
  }
}
