package dev.marrow.models.zoo;

import dev.marrow.engine.backend.Activation;
import dev.marrow.engine.init.Initializer;
import dev.marrow.engine.loss.MeanSquaredError;
import dev.marrow.engine.loss.SparseCategoricalCrossentropy;
import dev.marrow.engine.nn.Dense;
import dev.marrow.engine.nn.Dropout;
import dev.marrow.engine.nn.Flatten;
import dev.marrow.engine.nn.Sequential;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/** The classic MNIST models of the Keras and PyTorch tutorials and Nielsen's book. */
public final class ModelZoo {
  private static final Map<String, ModelSpec> MODELS = new LinkedHashMap<>();

  static {
    register(new ModelSpec("mlp",
        "Flatten → Dense(128, relu) → Dense(10); Adam 1e-3, batch 32 (Keras beginner tutorial)",
        () -> new Sequential(1, 28, 28)
            .add(new Flatten())
            .add(new Dense(128, Activation.RELU))
            .add(new Dense(10)),
        () -> new SparseCategoricalCrossentropy(true), "adam", 1e-3, 32, 5, 42));
    register(new ModelSpec("mlp-dropout",
        "784 → 128 → Dropout(0.2) → 64 → Dropout(0.2) → 10, relu; Adam 1e-3, batch 128"
            + " (PyTorch tutorial)",
        () -> new Sequential(1, 28, 28)
            .add(new Flatten())
            .add(new Dense(128, Activation.RELU))
            .add(new Dropout(0.2))
            .add(new Dense(64, Activation.RELU))
            .add(new Dropout(0.2))
            .add(new Dense(10)),
        () -> new SparseCategoricalCrossentropy(true), "adam", 1e-3, 128, 5, 42));
    register(new ModelSpec("nielsen",
        "784 → 30 → 10, sigmoid, quadratic cost, SGD lr 3.0, batch 10, N(0, 1) init"
            + " (Nielsen, Neural Networks and Deep Learning, ch. 1)",
        () -> new Sequential(1, 28, 28)
            .add(new Flatten())
            .add(nielsenLayer(30))
            .add(nielsenLayer(10)),
        MeanSquaredError::quadraticCost, "sgd", 3.0, 10, 30, 42));
  }

  private ModelZoo() {}

  // network.py draws weights and biases from N(0, 1).
  private static Dense nielsenLayer(int units) {
    Initializer gaussian = Initializer.randomNormal(0, 1);
    return new Dense(units, Activation.SIGMOID, true, gaussian, gaussian);
  }

  private static void register(ModelSpec spec) {
    MODELS.put(spec.name(), spec);
  }

  public static Optional<ModelSpec> find(String name) {
    return Optional.ofNullable(MODELS.get(name));
  }

  public static Map<String, ModelSpec> all() {
    return java.util.Collections.unmodifiableMap(MODELS);
  }
}
