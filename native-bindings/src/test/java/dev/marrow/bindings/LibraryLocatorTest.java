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

  /**
   * pip's nvidia-* wheels: site-packages/nvidia/<package>/lib of a virtualenv, found by the
   * locator.
   */
  @Test
  void findsLibrariesInPythonWheelFolders() throws Exception {
    Path venv = tmp.resolve("venv");
    Path site = venv.resolve("lib/python3.12/site-packages/nvidia");
    Path cudnn = Files.createDirectories(site.resolve("cudnn/lib"));
    Path cublas = Files.createDirectories(site.resolve("cublas/lib"));
    Files.writeString(cudnn.resolve("libcudnn.so.9"), "");
    Files.writeString(cublas.resolve("libcublas.so.12"), "");
    Path userSite = tmp.resolve("home/.local/lib/python3.11/site-packages/nvidia/cu13/lib");
    // (NVRTC: system folders on a build machine may hold a CUDA runtime, never a wheel's NVRTC.)
    Files.createDirectories(userSite);
    Files.writeString(userSite.resolve("libnvrtc.so.13"), "");
    LibraryLocator locator =
        new LibraryLocator(
            Map.of("VIRTUAL_ENV", venv.toString(), "HOME", tmp.resolve("home").toString()), false);
    var d = locator.locate(NativeLibrary.CUDNN, NativeLibrary.CUBLAS, NativeLibrary.NVRTC);
    assertEquals(cudnn.resolve("libcudnn.so.9"), d.path(NativeLibrary.CUDNN).orElseThrow());
    assertEquals(cublas.resolve("libcublas.so.12"), d.path(NativeLibrary.CUBLAS).orElseThrow());
    assertEquals(userSite.resolve("libnvrtc.so.13"), d.path(NativeLibrary.NVRTC).orElseThrow());
  }

  /** cuDNN 9's sub-libraries beside libcudnn.so.9, in the order they must load, and said so. */
  @Test
  void listsCudnnsSubLibrariesBesideIt() throws Exception {
    Path lib = Files.createDirectories(tmp.resolve("cudnn"));
    for (String name :
        new String[] {
          "libcudnn.so.9", "libcudnn_cnn.so.9", "libcudnn_ops.so.9", "libcudnn_graph.so.9"
        }) {
      Files.writeString(lib.resolve(name), "");
    }
    assertEquals(
        java.util.List.of(
            lib.resolve("libcudnn_graph.so.9"),
            lib.resolve("libcudnn_ops.so.9"),
            lib.resolve("libcudnn_cnn.so.9")),
        LibraryLocator.cudnnSubLibraries(lib.resolve("libcudnn.so.9")));
    var d = LibraryLocator.inFolder(lib).locate(NativeLibrary.CUDNN);
    assertTrue(d.toString().contains("(+ graph, ops, cnn beside it)"), d.toString());
  }
}
