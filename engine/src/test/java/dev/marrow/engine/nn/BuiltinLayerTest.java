package dev.marrow.engine.nn;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.marrow.engine.backend.Activation;
import dev.marrow.engine.data.Dataset;
import dev.marrow.engine.init.Initializer;
import dev.marrow.engine.nn.LayerTestHelper.Case;
import dev.marrow.engine.tensor.Shape;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every built-in layer type, in the configurations worth telling apart, through {@link
 * LayerTestHelper}; each configuration PyTorch computed (goldens/layers.json) is compared with it
 * as a step of its case. The finite-difference inputs are small, the goldens' inputs their own. A
 * case is named by the layer it builds (class and config), not by a label of its own.
 */
class BuiltinLayerTest {
  private static Shape shape(int... dims) {
    return Shape.of(dims);
  }

  private static Conv2D.Options conv(int filters, int kernel) {
    return Conv2D.builder(filters, kernel);
  }

  static List<Case> cases() {
    List<Case> cases = new ArrayList<>();
    // Dense with each fused activation (softmax included); with 3 units (PyTorch's batch-1 case),
    // without bias, with an L2 penalty.
    for (Activation a : Activation.values()) {
      cases.add(Case.of(() -> new Dense(5, a), shape(4)).withGoldens("dense " + a.kerasName()));
    }
    cases.add(Case.of(() -> new Dense(3, "relu"), shape(4)).withGoldens("dense batch 1"));
    cases.add(
        Case.of(
            () ->
                new Dense(
                    3, Activation.SIGMOID, false, Initializer.glorotNormal(), Initializer.zeros()),
            shape(4)));
    cases.add(Case.of(() -> new Dense(5, Activation.RELU).l2(0.1), shape(4)));

    // Conv2D with each fused activation (no softmax: Conv2D refuses it).
    for (Activation a : Activation.values()) {
      if (a != Activation.SOFTMAX) {
        var c =
            Case.of(() -> conv(4, 3).padding(Padding.SAME).activation(a).build(), shape(2, 5, 4));
        cases.add(a == Activation.LINEAR ? c : c.withGoldens("conv same 3x3 " + a.kerasName()));
      }
    }
    // Conv2D's geometry: strides, padding, dilation, kernel sizes, bias or not.
    cases.add(Case.of(() -> conv(2, 3).build(), shape(1, 5, 6)).withGoldens("conv 1ch valid 3x3"));
    cases.add(
        Case.of(() -> conv(4, 5).build(), shape(2, 6, 5)).withGoldens("conv batch2 3ch valid 5x5"));
    cases.add(
        Case.of(() -> conv(3, 3).strides(2).build(), shape(2, 7, 6))
            .withGoldens("conv stride2 valid"));
    cases.add(
        Case.of(() -> conv(5, 3).padding(Padding.SAME).useBias(false).build(), shape(2, 4, 3))
            .withGoldens("conv same stride1 3x3 no bias"));
    cases.add(
        Case.of(() -> conv(3, 3).strides(2).padding(Padding.SAME).build(), shape(2, 5, 4))
            .withGoldens("conv same stride2 odd size"));
    cases.add(
        Case.of(() -> conv(2, 4).padding(Padding.SAME).build(), shape(2, 5, 4))
            .withGoldens("conv same even kernel 4x4"));
    cases.add(
        Case.of(() -> conv(4, 5).padding(Padding.explicit(2, 2)).build(), shape(2, 4, 3))
            .withGoldens("conv explicit pad 2"));
    cases.add(
        Case.of(() -> conv(3, 3).strides(2).padding(Padding.explicit(1, 2)).build(), shape(2, 5, 6))
            .withGoldens("conv explicit pad (1,2) stride 2"));
    cases.add(
        Case.of(() -> conv(3, 3).dilation(2).build(), shape(2, 6, 5))
            .withGoldens("conv dilation 2 valid"));
    cases.add(
        Case.of(
                () -> conv(2, 3).dilation(2).padding(Padding.SAME).useBias(false).build(),
                shape(2, 5, 5))
            .withGoldens("conv dilation 2 same"));
    cases.add(
        Case.of(() -> conv(8, 16).build(), shape(1, 16, 17))
            .withGoldens("conv 16x16 kernel like simple-cnn"));
    cases.add(Case.of(() -> conv(3, 1).build(), shape(4, 3, 3)).withGoldens("conv 1x1"));
    // The residual networks' projection shortcut; a dilated, explicitly padded one with L2.
    cases.add(Case.of(() -> conv(4, 1).strides(2).useBias(false).build(), shape(3, 5, 5)));
    cases.add(
        Case.of(
            () -> conv(2, 2).dilation(2).padding(Padding.explicit(1, 1)).l2(0.05).build(),
            shape(2, 5, 4)));

    // Pooling: max and average, overlapping windows, explicit and same padding.
    cases.add(
        Case.of(() -> Pooling2D.max(2), shape(2, 5, 5))
            .withGoldens("maxpool 2/2", "maxpool 2/2 odd size"));
    cases.add(
        Case.of(() -> Pooling2D.max(3, 2, Padding.VALID), shape(2, 7, 5))
            .withGoldens("maxpool 3/2 overlapping"));
    cases.add(
        Case.of(() -> Pooling2D.max(3, 1, Padding.explicit(1, 1)), shape(2, 4, 5))
            .withGoldens("maxpool 3/1 explicit pad 1"));
    cases.add(
        Case.of(() -> Pooling2D.max(2, 2, Padding.SAME), shape(2, 5, 5))
            .withGoldens("maxpool 2/2 same odd size"));
    cases.add(Case.of(() -> Pooling2D.max(3, 2, Padding.SAME), shape(2, 6, 5)));
    cases.add(Case.of(() -> Pooling2D.average(2), shape(2, 4, 6)).withGoldens("avgpool 2/2"));
    cases.add(
        Case.of(() -> Pooling2D.average(3, 2, Padding.VALID), shape(2, 7, 5))
            .withGoldens("avgpool 3/2 overlapping"));
    cases.add(
        Case.of(() -> Pooling2D.average(3, 1, Padding.explicit(1, 1)), shape(2, 4, 5))
            .withGoldens("avgpool 3/1 pad 1 exclude pad"));
    cases.add(
        Case.of(
                () -> Pooling2D.averageIncludingPadding(3, 2, Padding.explicit(1, 1)),
                shape(2, 5, 5))
            .withGoldens("avgpool 3/2 pad 1 include pad"));
    cases.add(Case.of(() -> Pooling2D.average(2, 1, Padding.VALID), shape(2, 4, 4)));
    cases.add(Case.of(() -> Pooling2D.average(3, 2, Padding.SAME), shape(2, 6, 5)));
    cases.add(
        Case.of(GlobalAveragePooling2D::new, shape(3, 4, 5)).withGoldens("global average pooling"));
    cases.add(
        Case.of(GlobalMaxPooling2D::new, shape(3, 4, 5))
            .withGoldens(
                "global max pooling",
                "global max pooling with ties",
                "global max pooling single row"));

    // ZeroPadding2D: every side, uneven sides, rows only, columns only.
    cases.add(Case.of(() -> new ZeroPadding2D(1), shape(2, 3, 4)).withGoldens("zero padding 1"));
    cases.add(
        Case.of(() -> new ZeroPadding2D(2, 0, 1, 3), shape(2, 3, 4))
            .withGoldens("zero padding ((2, 0), (1, 3))"));
    cases.add(
        Case.of(() -> new ZeroPadding2D(0, 2, 0, 0), shape(2, 3, 4))
            .withGoldens("zero padding rows only"));
    cases.add(
        Case.of(() -> new ZeroPadding2D(0, 0, 2, 1), shape(2, 3, 4))
            .withGoldens("zero padding columns only"));

    // Batch normalisation on dense features and on images, Keras' defaults and others.
    cases.add(Case.of(BatchNormalization::new, shape(5)).withGoldens("batch norm dense batch 8"));
    cases.add(
        Case.of(() -> new BatchNormalization(0.5, 1e-3), shape(7))
            .withGoldens("batch norm dense batch 2"));
    cases.add(
        Case.of(BatchNormalization::new, shape(2, 4, 3)).withGoldens("batch norm conv batch 1"));
    cases.add(
        Case.of(() -> new BatchNormalization(0.9, 1e-5), shape(3, 3, 4))
            .withGoldens("batch norm conv batch 4"));

    // Each activation as a layer of its own (softmax over the last axis).
    for (Activation a : Activation.values()) {
      cases.add(Case.of(() -> new ActivationLayer(a), shape(2, 3, 4)));
    }
    // Dropout in training mode: the plan's step seed fixes the mask across evaluations.
    cases.add(Case.of(() -> new Dropout(0.4), shape(2, 3, 4)));
    cases.add(Case.of(Flatten::new, shape(2, 3, 4)));
    cases.add(Case.of(() -> new Reshape(4, 6), shape(2, 3, 4)));
    // Normalization, adapted to data like the helper's own inputs (moderate standardised values).
    for (Shape s : List.of(shape(3), shape(2, 3, 3))) {
      Dataset like = GradientCheck.randomData(s, 40, 3, 21);
      cases.add(Case.of(() -> new Normalization().adapt(like), s));
    }

    // The merge layers, on two and three inputs, images and vectors.
    cases.add(new Case(Add::new, List.of(shape(2, 2, 3), shape(2, 2, 3)), List.of()));
    cases.add(new Case(Add::new, List.of(shape(4), shape(4), shape(4)), List.of()));
    cases.add(new Case(Multiply::new, List.of(shape(5), shape(5), shape(5)), List.of()));
    cases.add(new Case(Average::new, List.of(shape(3, 2, 2), shape(3, 2, 2)), List.of()));
    cases.add(new Case(Concatenate::new, List.of(shape(1, 2, 3), shape(2, 2, 3)), List.of()));
    cases.add(
        new Case(() -> new Concatenate(-1), List.of(shape(2, 2, 1), shape(2, 2, 3)), List.of()));
    return cases;
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("cases")
  void passesTheLayerChecks(Case c) {
    LayerTestHelper.check(c);
  }

  @Test
  void everyGoldenBelongsToACase() {
    Set<String> claimed = new TreeSet<>();
    cases().forEach(c -> claimed.addAll(c.goldens()));
    Set<String> unclaimed = new TreeSet<>(dev.marrow.engine.Goldens.all("layers.json").keySet());
    unclaimed.removeAll(claimed);
    assertEquals(Set.of(), unclaimed, "goldens no case compares with");
  }

  @Test
  void everyBuiltInLayerClassHasACase() {
    Set<String> builtIn = new TreeSet<>();
    for (String name : LayerRegistry.names()) {
      // A built-in factory is a lambda of BuiltinLayers; its aliases are the lower-case names.
      var factory = LayerRegistry.find(name).orElseThrow();
      if (factory.getClass().getNestHost() == BuiltinLayers.class
          && Character.isUpperCase(name.charAt(0))) {
        builtIn.add(name);
      }
    }
    Set<String> covered = new TreeSet<>();
    cases().forEach(c -> covered.add(c.make().get().className()));
    Set<String> missing = new TreeSet<>(builtIn);
    missing.removeAll(covered);
    assertEquals(Set.of(), missing, "built-in layer classes without a case");
    assertTrue(builtIn.containsAll(Set.of("Dense", "Concatenate")), "found only " + builtIn);
  }
}
