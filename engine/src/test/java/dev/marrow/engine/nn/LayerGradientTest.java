package dev.marrow.engine.nn;

import dev.marrow.engine.backend.Activation;
import dev.marrow.engine.backend.Backend;
import dev.marrow.engine.backend.cpu.CpuBackend;
import dev.marrow.engine.backend.reference.ReferenceBackend;
import dev.marrow.engine.init.Initializer;
import dev.marrow.engine.loss.CategoricalCrossentropy;
import dev.marrow.engine.loss.Loss;
import dev.marrow.engine.loss.MeanSquaredError;
import dev.marrow.engine.loss.SparseCategoricalCrossentropy;
import dev.marrow.engine.tensor.Shape;
import java.util.List;
import java.util.function.Supplier;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Finite-difference checks for every layer and loss. The layer under test sits between two Dense
 * layers so that both its input gradient (seen through the first layer's weight gradient) and its
 * own parameter gradients are checked.
 */
class LayerGradientTest {
  private static final CpuBackend CPU = new CpuBackend(2);
  private static final ReferenceBackend REF = new ReferenceBackend();

  @AfterAll
  static void close() {
    CPU.close();
  }

  private static Sequential sandwich(Layer underTest) {
    return new Sequential(5)
        .add(new Dense(6, Activation.TANH))
        .add(underTest)
        .add(new Dense(4))
        .build(3);
  }

  private static void check(Sequential model, Loss loss) {
    for (Backend b : List.of(CPU, REF)) {
      GradientCheck.check(model, loss, b, GradientCheck.randomData(model.inputShape(), 7, 4, 11),
          2e-2, 2e-3);
    }
  }

  @ParameterizedTest
  @EnumSource(Activation.class)
  void denseWithFusedActivation(Activation activation) {
    check(sandwich(new Dense(5, activation)), new SparseCategoricalCrossentropy(true));
  }

  @Test
  void denseWithoutBias() {
    check(sandwich(new Dense(3, Activation.SIGMOID, false, Initializer.glorotNormal(),
        Initializer.zeros())), new SparseCategoricalCrossentropy(true));
  }

  @ParameterizedTest
  @EnumSource(Activation.class)
  void activationLayer(Activation activation) {
    check(sandwich(new ActivationLayer(activation)), new SparseCategoricalCrossentropy(true));
  }

  @Test
  void dropoutInTrainingMode() {
    check(sandwich(new Dropout(0.4)), new SparseCategoricalCrossentropy(true));
  }

  @Test
  void reshapeAndFlatten() {
    Sequential m = new Sequential(5)
        .add(new Dense(12, Activation.TANH))
        .add(new Reshape(3, 4))
        .add(new Flatten())
        .add(new Dense(4))
        .build(5);
    check(m, new SparseCategoricalCrossentropy(true));
  }

  static Stream<Arguments> losses() {
    Supplier<Sequential> logits = () -> new Sequential(5).add(new Dense(6, Activation.TANH))
        .add(new Dense(4)).build(7);
    Supplier<Sequential> probabilities = () -> new Sequential(5)
        .add(new Dense(6, Activation.TANH)).add(new Dense(4, Activation.SOFTMAX)).build(7);
    Supplier<Sequential> sigmoid = () -> new Sequential(5)
        .add(new Dense(6, Activation.SIGMOID)).add(new Dense(4, Activation.SIGMOID)).build(7);
    return Stream.of(
        Arguments.of("sparse CE from logits", logits, new SparseCategoricalCrossentropy(true)),
        Arguments.of("sparse CE of probabilities", probabilities,
            new SparseCategoricalCrossentropy(false)),
        Arguments.of("categorical CE from logits", logits, new CategoricalCrossentropy(true)),
        Arguments.of("categorical CE of probabilities", probabilities,
            new CategoricalCrossentropy(false)),
        Arguments.of("mean squared error", logits, MeanSquaredError.mean()),
        Arguments.of("quadratic cost", sigmoid, MeanSquaredError.quadraticCost()));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("losses")
  void lossGradients(String name, Supplier<Sequential> model, Loss loss) {
    check(model.get(), loss);
  }

  @Test
  void shapesAreInferredAndMismatchesNameTheLayer() {
    Sequential m = new Sequential(1, 28, 28).add(new Flatten()).add(new Dense(10)).build(1);
    org.junit.jupiter.api.Assertions.assertEquals(Shape.of(10), m.outputShape());
    var e = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
        () -> new Sequential(1, 28, 28).add(new Dense(10)).build(1));
    org.junit.jupiter.api.Assertions.assertTrue(e.getMessage().contains("layer dense1")
        && e.getMessage().contains("Flatten"), e.getMessage());
  }
}
