/**
 * Marrow's native bindings: the CUDA library locator and status checks for everyone; the
 * jextract-generated CUDA runtime, cuBLAS, cuDNN and NVRTC bindings for the engine only.
 *
 * <p>The generated packages mirror the C headers one to one, so they are no API of ours: they are
 * exported only to the engine, which wraps them. {@code dev.marrow.bindings.cblas} is not exported
 * at all; {@link dev.marrow.bindings.Cblas} is its public face.
 */
// "module": javac warns that dev.marrow.engine is not found while this module compiles on its
// own; the qualified exports name it on purpose.
@SuppressWarnings("module")
module dev.marrow.bindings {
  exports dev.marrow.bindings;
  exports dev.marrow.bindings.cudart to
      dev.marrow.engine;
  exports dev.marrow.bindings.cublas to
      dev.marrow.engine;
  exports dev.marrow.bindings.cudnn to
      dev.marrow.engine;
  exports dev.marrow.bindings.nvrtc to
      dev.marrow.engine;
}
