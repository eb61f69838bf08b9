package dev.marrow.bindings;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LibraryLocatorTest {
  @TempDir Path tmp;

  @Test
  void searchOrderPutsTheExplicitFolderFirst() throws Exception {
    Path mine = Files.createDirectories(tmp.resolve("mine"));
    Path cuda = Files.createDirectories(tmp.resolve("cuda/lib64"));
    Files.writeString(mine.resolve("libcublas.so.12"), "");
    Files.writeString(cuda.resolve("libcublas.so.12"), "");
    LibraryLocator locator =
        new LibraryLocator(
            Map.of("MARROW_CUDA_LIB", mine.toString(), "CUDA_HOME", tmp.resolve("cuda").toString()),
            false);
    assertEquals(mine, locator.searchFolders().get(0));
    assertEquals(cuda, locator.searchFolders().get(1));
    var d = locator.locate(NativeLibrary.CUBLAS);
    assertEquals(mine.resolve("libcublas.so.12"), d.path(NativeLibrary.CUBLAS).orElseThrow());
  }

  @Test
  void aMissingLibraryIsReportedWithEveryFolderSearchedAndNothingThrowsUntilLoad() {
    Path empty = tmp.resolve("nothing-here");
    LibraryLocator locator = new LibraryLocator(Map.of("LD_LIBRARY_PATH", tmp.toString()), false);
    var d = locator.locate(NativeLibrary.CUDNN);
    assertFalse(d.allFound());
    String text = d.toString();
    assertTrue(
        text.contains("cuDNN 9") && text.contains("libcudnn.so.9") && text.contains(tmp.toString()),
        text);
    assertFalse(text.contains(empty.toString()));
    try (Arena arena = Arena.ofConfined()) {
      var e =
          assertThrows(
              IllegalStateException.class,
              () -> LibraryLocator.load(d, NativeLibrary.CUDNN, arena));
      assertTrue(e.getMessage().contains("not found"), e.getMessage());
    }
  }
}
