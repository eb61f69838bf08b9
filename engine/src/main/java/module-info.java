/**
 * The Marrow engine: the {@link dev.marrow.Model} API and the packages it builds on (layers,
 * tensors, training, losses, optimizers, initializers, model files, and the {@link
 * dev.marrow.engine.backend.Backend} SPI that custom layers call).
 *
 * <p>The backends themselves ({@code backend.cpu}, {@code backend.cuda}, {@code backend.reference})
 * are implementation: not exported, so they can change without notice. A model reaches them through
 * {@link dev.marrow.Model#compile}.
 *
 * <p>Running on the module path needs native access for the bindings and the engine ({@code
 * --enable-native-access=dev.marrow.bindings,dev.marrow.engine}); the Vector API module is resolved
 * through the {@code requires} below.
 */
// "requires-automatic": JCuda 12.6 ships no module descriptor nor Automatic-Module-Name, so its
// name ("jcuda") is derived from the jar's file name; there is no other name to require it by.
@SuppressWarnings("requires-automatic")
module dev.marrow.engine {
  requires dev.marrow.bindings;
  requires jdk.incubator.vector;
  requires jcuda;

  exports dev.marrow;
  exports dev.marrow.engine.backend;
  exports dev.marrow.engine.data;
  exports dev.marrow.engine.init;
  exports dev.marrow.engine.io;
  exports dev.marrow.engine.loss;
  exports dev.marrow.engine.metrics;
  exports dev.marrow.engine.nn;
  exports dev.marrow.engine.optim;
  exports dev.marrow.engine.tensor;
  exports dev.marrow.engine.train;
  exports dev.marrow.engine.train.callbacks;
}
