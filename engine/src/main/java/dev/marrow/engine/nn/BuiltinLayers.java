package dev.marrow.engine.nn;

import dev.marrow.engine.backend.PoolMode;
import dev.marrow.engine.init.Initializer;

/**
 * The built-in layers' from-config factories, registered with {@link LayerRegistry} under Keras'
 * class names and, as aliases, the type names of the first model.json format. Initialisers are
 * Keras' defaults (Glorot-uniform kernels, zero biases), so that an architecture file trains from a
 * sensible start; a loaded model's weights then come from its safetensors file.
 */
final class BuiltinLayers {
  private BuiltinLayers() {}

  static void registerAll() {
    LayerRegistry.register("Dense", BuiltinLayers::dense, "dense");
    LayerRegistry.register("Conv2D", BuiltinLayers::conv2d, "conv");
    LayerRegistry.register("MaxPooling2D", c -> pooling(c, PoolMode.MAX), "maxpool");
    LayerRegistry.register("AveragePooling2D", BuiltinLayers::averagePooling, "avgpool");
    LayerRegistry.register(
        "GlobalAveragePooling2D", c -> new GlobalAveragePooling2D(), "globalavgpool");
    LayerRegistry.register(
        "BatchNormalization",
        c -> new BatchNormalization(c.number("momentum", 0.99), c.number("epsilon", 1e-3)),
        "bn");
    LayerRegistry.register("Dropout", c -> new Dropout(c.number("rate", 0)), "dropout");
    LayerRegistry.register("Flatten", c -> new Flatten(), "flatten");
    LayerRegistry.register(
        "Reshape", c -> new Reshape(c.integers("target_shape", 1, 1 << 24)), "reshape");
    LayerRegistry.register("Activation", c -> new ActivationLayer(c.activation()), "activation");
    LayerRegistry.register("GlobalMaxPooling2D", c -> new GlobalMaxPooling2D(), "globalmaxpool");
    LayerRegistry.register("ZeroPadding2D", ZeroPadding2D::fromConfig, "zeropad");
    LayerRegistry.register("Normalization", c -> new Normalization());
    LayerRegistry.register("Add", c -> new Add());
    LayerRegistry.register("Multiply", c -> new Multiply());
    LayerRegistry.register("Average", c -> new Average());
    LayerRegistry.register(
        "Concatenate", c -> new Concatenate(c.integer("axis", -4, 3, Concatenate.CHANNELS)));
  }

  private static Layer dense(LayerConfig c) {
    return new Dense(
            c.integer("units", 1, 1 << 24),
            c.activation(),
            c.bool("use_bias", true),
            Initializer.glorotUniform(),
            Initializer.zeros())
        .l2(c.number("l2", 0));
  }

  private static Layer conv2d(LayerConfig c) {
    int[] k = c.pair("kernel_size");
    int[] s = c.pair("strides");
    int[] d = c.pair("dilation_rate");
    return Conv2D.builder(c.integer("filters", 1, 1 << 16), k[0])
        .kernel(k[0], k[1])
        .strides(s[0], s[1])
        .dilation(d[0], d[1])
        .padding(Padding.fromConfig(c.raw("padding")))
        .useBias(c.bool("use_bias", true))
        .activation(c.activation())
        .l2(c.number("l2", 0))
        .build();
  }

  private static Layer averagePooling(LayerConfig c) {
    return pooling(
        c,
        c.bool("count_include_pad", false)
            ? PoolMode.AVERAGE_INCLUDE_PADDING
            : PoolMode.AVERAGE_EXCLUDE_PADDING);
  }

  private static Layer pooling(LayerConfig c, PoolMode mode) {
    int[] p = c.pair("pool_size");
    int[] s = c.pair("strides");
    return Pooling2D.of(mode, p[0], p[1], s[0], s[1], Padding.fromConfig(c.raw("padding")));
  }
}
