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
  void findsNvrtcsBuiltinsOfItsOwnMajorVersionBesideIt() throws Exception {
    // A CUDA 12 wheel folder (soname, the file it links to, the alternative build) beside a
    // CUDA 13 one: each libnvrtc gets the builtins of its own major version, by its soname.
    Path cu12 = Files.createDirectories(tmp.resolve("cuda_nvrtc/lib"));
    for (String name :
        new String[] {
          "libnvrtc.so.12",
          "libnvrtc-builtins.so.12.6.77",
          "libnvrtc-builtins.so.12.6",
          "libnvrtc-builtins.alt.so.12.6",
          "libnvrtc-builtins.so.13.0"
        }) {
      Files.writeString(cu12.resolve(name), "");
    }
    assertEquals(
        cu12.resolve("libnvrtc-builtins.so.12.6"),
        LibraryLocator.nvrtcBuiltins(cu12.resolve("libnvrtc.so.12")).orElseThrow());
    assertEquals(
        cu12.resolve("libnvrtc-builtins.so.13.0"),
        LibraryLocator.nvrtcBuiltins(cu12.resolve("libnvrtc.so.13")).orElseThrow());
    Path bare = Files.createDirectories(tmp.resolve("bare"));
    Files.writeString(bare.resolve("libnvrtc.so.12"), "");
    assertTrue(LibraryLocator.nvrtcBuiltins(bare.resolve("libnvrtc.so.12")).isEmpty());

    var d = new LibraryLocator(Map.of("MARROW_CUDA_LIB", cu12.toString()), false);
    assertTrue(
        d.locate(NativeLibrary.NVRTC)
            .toString()
            .contains("libnvrtc.so.12 (+ libnvrtc-builtins.so.12.6 beside it)"),
        d.locate(NativeLibrary.NVRTC).toString());
    var lone = new LibraryLocator(Map.of("MARROW_CUDA_LIB", bare.toString()), false);
    assertTrue(
        lone.locate(NativeLibrary.NVRTC).toString().contains("no libnvrtc-builtins beside it"),
        lone.locate(NativeLibrary.NVRTC).toString());
  }

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
