package dev.marrow.bindings;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.lang.reflect.Method;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Collectors;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Every function the jextract bindings declare, checked against an independent declaration of the
 * same C function — JavaCPP's {@code org.bytedeco:cuda} presets, generated from the same headers by
 * a different tool: same arity, and the same kind (int, long, float, double or pointer) for every
 * argument and the result. A wrong include, a header of another version or a hand edit of the
 * generated code shows up here.
 */
class BindingsCrossCheckTest {

  @ParameterizedTest(name = "{0}")
  @CsvSource({
    "cudart, dev.marrow.bindings.cudart.cudart_h, org.bytedeco.cuda.global.cudart",
    "cublas, dev.marrow.bindings.cublas.cublas_h, org.bytedeco.cuda.global.cublas",
    "cudnn, dev.marrow.bindings.cudnn.cudnn_h, org.bytedeco.cuda.global.cudnn",
    "nvrtc, dev.marrow.bindings.nvrtc.nvrtc_h, org.bytedeco.cuda.global.nvrtc"
  })
  void everyBoundFunctionMatchesJavaCppsDeclaration(String lib, String ours, String theirs)
      throws Exception {
    List<String> functions = includedFunctions(lib);
    assertTrue(functions.size() >= 9, lib + " binds " + functions.size() + " functions");
    Class<?> generated = Class.forName(ours);
    Class<?> reference = Class.forName(theirs, false, getClass().getClassLoader());
    List<String> mismatches = new ArrayList<>();
    for (String f : functions) {
      // The generated wrapper's Java signature carries the descriptor's carriers one to one; its
      // $descriptor() would resolve the symbol, which needs the library loaded.
      List<String> own =
          Arrays.stream(generated.getMethods())
              .filter(m -> m.getName().equals(f))
              .map(BindingsCrossCheckTest::signature)
              .toList();
      assertEquals(1, own.size(), f + " is generated once");
      String mine = own.getFirst();
      List<String> candidates = javaCpp(reference, f);
      if (candidates.isEmpty() && f.endsWith("_v2")) {
        // CUDA 12's headers #define cudaGetDeviceProperties as cudaGetDeviceProperties_v2;
        // JavaCPP declares the macro's name, jextract the exported symbol's.
        candidates = javaCpp(reference, f.substring(0, f.length() - 3));
      }
      if (!candidates.contains(mine)) {
        mismatches.add(
            f + ": ours " + mine + ", JavaCPP " + (candidates.isEmpty() ? "(absent)" : candidates));
      }
    }
    assertEquals(List.of(), mismatches, lib + ": bindings that disagree with JavaCPP");
  }

  private static List<String> javaCpp(Class<?> reference, String name) {
    return Arrays.stream(reference.getMethods())
        .filter(m -> m.getName().equals(name))
        .map(BindingsCrossCheckTest::signature)
        .distinct()
        .toList();
  }

  static List<String> includedFunctions(String lib) throws IOException {
    Path includes = Path.of("jextract/includes-" + lib + ".txt"); // tests run in the module folder
    return Files.readAllLines(includes).stream()
        .filter(l -> l.startsWith("--include-function "))
        .map(l -> l.substring("--include-function ".length()).strip())
        .toList();
  }

  /** "I(PIJ)" style: the result kind, then each argument's. */
  private static String signature(Method m) {
    return kind(m.getReturnType())
        + "("
        + Arrays.stream(m.getParameterTypes())
            .map(BindingsCrossCheckTest::kind)
            .collect(Collectors.joining())
        + ")";
  }

  /** Pointers: MemorySegment here; Pointer subclasses, arrays, buffers or strings in JavaCPP. */
  private static String kind(Class<?> c) {
    return c == int.class
        ? "I"
        : c == long.class
            ? "J"
            : c == float.class ? "F" : c == double.class ? "D" : c == void.class ? "V" : "P";
  }
}
