package dev.marrow.bindings;

import dev.marrow.bindings.cblas.cblas_h;
import java.lang.foreign.MemorySegment;
import java.util.Optional;

/**
 * OpenBLAS's {@code cblas_sgemm}, the reference the benchmarks measure Marrow's GEMM against.
 * {@link #load} finds the library with the {@link LibraryLocator} and loads it into this class
 * loader, where the jextract-generated bindings look their symbols up; nothing is loaded before.
 */
public final class Cblas {
  private static Cblas instance;

  private final String path;

  private Cblas(String path) {
    this.path = path;
  }

  /** The library, or empty with the locator's diagnostic passed to {@code whyNot}. */
  public static synchronized Optional<Cblas> load(java.util.function.Consumer<String> whyNot) {
    if (instance != null) {
      return Optional.of(instance);
    }
    LibraryLocator.Diagnostic d = new LibraryLocator().locate(NativeLibrary.OPENBLAS);
    Optional<java.nio.file.Path> p = d.path(NativeLibrary.OPENBLAS);
    if (p.isEmpty()) {
      whyNot.accept(d.toString().strip());
      return Optional.empty();
    }
    try {
      System.load(p.get().toString());
    } catch (UnsatisfiedLinkError e) {
      whyNot.accept("OpenBLAS at " + p.get() + " did not load: " + e.getMessage());
      return Optional.empty();
    }
    instance = new Cblas(p.get().toString());
    return Optional.of(instance);
  }

  public String path() {
    return path;
  }

  /** The kernel family OpenBLAS picked for this processor ("SkylakeX", "Haswell", …). */
  public String coreName() {
    return cblas_h.openblas_get_corename().getString(0);
  }

  public void setThreads(int threads) {
    cblas_h.openblas_set_num_threads(threads);
  }

  /**
   * Row-major {@code C = alpha·op(A)·op(B) + beta·C} on native segments (CblasRowMajor), the same
   * contract as the Backend SPI's gemm.
   */
  public void sgemm(
      boolean transA,
      boolean transB,
      int m,
      int n,
      int k,
      float alpha,
      MemorySegment a,
      int lda,
      MemorySegment b,
      int ldb,
      float beta,
      MemorySegment c,
      int ldc) {
    cblas_h.cblas_sgemm(
        cblas_h.CblasRowMajor(),
        transA ? cblas_h.CblasTrans() : cblas_h.CblasNoTrans(),
        transB ? cblas_h.CblasTrans() : cblas_h.CblasNoTrans(),
        m,
        n,
        k,
        alpha,
        a,
        lda,
        b,
        ldb,
        beta,
        c,
        ldc);
  }
}
