package dev.marrow.engine.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.marrow.engine.backend.Activation;
import dev.marrow.engine.backend.TestBackends;
import dev.marrow.engine.backend.cpu.CpuBackend;
import dev.marrow.engine.loss.SparseCategoricalCrossentropy;
import dev.marrow.engine.nn.ActivationLayer;
import dev.marrow.engine.nn.BatchNormalization;
import dev.marrow.engine.nn.Conv2D;
import dev.marrow.engine.nn.Dense;
import dev.marrow.engine.nn.Dropout;
import dev.marrow.engine.nn.Flatten;
import dev.marrow.engine.nn.GlobalAveragePooling2D;
import dev.marrow.engine.nn.GlobalMaxPooling2D;
import dev.marrow.engine.nn.GradientCheck;
import dev.marrow.engine.nn.Graph;
import dev.marrow.engine.nn.Padding;
import dev.marrow.engine.nn.Pooling2D;
import dev.marrow.engine.nn.Reshape;
import dev.marrow.engine.nn.Sequential;
import dev.marrow.engine.nn.ZeroPadding2D;
import dev.marrow.engine.optim.Adam;
import dev.marrow.engine.tensor.Shape;
import dev.marrow.engine.tensor.Tensor;
import dev.marrow.engine.train.FitOptions;
import dev.marrow.engine.train.Trainer;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ModelFilesTest {
  @TempDir Path dir;

  static Sequential everyLayer() {
    return new Sequential(1, 10, 10)
        .add(
            Conv2D.builder(4, 3).padding(Padding.SAME).activation(Activation.RELU).l2(1e-4).build())
        .add(new BatchNormalization(0.9, 1e-3))
        .add(Pooling2D.max(2))
        .add(
            Conv2D.builder(3, 2)
                .padding(Padding.explicit(1, 0))
                .dilation(1, 2)
                .useBias(false)
                .build())
        .add(Pooling2D.averageIncludingPadding(2, 1, Padding.VALID))
        .add(new ActivationLayer(Activation.TANH))
        .add(new Flatten())
        .add(new Reshape(3, 10, 1))
        .add(new GlobalAveragePooling2D())
        .add(new Dense(8, Activation.SIGMOID).l2(1e-3))
        .add(new Dropout(0.25))
        .add(new Dense(5))
        .build(7);
  }

  @Test
  void aSavedModelLoadsWithTheSameArchitectureWeightsAndPredictions() throws IOException {
    Sequential model = everyLayer();
    var data = GradientCheck.randomData(model.inputShape(), 64, 5, 3);
    try (CpuBackend cpu = TestBackends.cpu(2)) {
      Trainer trainer =
          new Trainer(model, new Adam(1e-2), new SparseCategoricalCrossentropy(true), cpu);
      trainer.fit(data, FitOptions.defaults().epochs(2).batchSize(16)); // moves BN statistics
      ModelFiles.save(model, dir, Map.of("note", "test"));
      Graph loaded = ModelFiles.load(dir);
      assertEquals(model.summary(), loaded.summary());
      Map<String, Tensor> a = ModelFiles.stateDict(model), b = ModelFiles.stateDict(loaded);
      assertEquals(a.keySet(), b.keySet());
      assertTrue(a.containsKey("bn1.running_var") && a.containsKey("conv2.weight"));
      for (String name : a.keySet()) {
        assertArrayEquals(a.get(name).array(), b.get(name).array(), name);
      }
      Tensor expected = trainer.predict(data.features());
      Tensor actual =
          new Trainer(loaded, new Adam(1e-3), new SparseCategoricalCrossentropy(true), cpu)
              .predict(data.features());
      assertArrayEquals(expected.array(), actual.array());
    }
    assertEquals("test", SafeTensors.read(dir.resolve(ModelFiles.WEIGHTS)).metadata().get("note"));
  }

  @Test
  void zeroPaddingAndGlobalMaxPoolingRoundTrip() throws IOException {
    Sequential model =
        new Sequential(2, 6, 5)
            .add(new ZeroPadding2D(1))
            .add(Conv2D.builder(3, 3).activation(Activation.RELU).build())
            .add(new ZeroPadding2D(2, 0, 1, 3))
            .add(new GlobalMaxPooling2D())
            .add(new Dense(4))
            .build(5);
    ModelFiles.save(model, dir, Map.of());
    String json = Files.readString(dir.resolve(ModelFiles.ARCHITECTURE));
    assertTrue(
        json.contains("\"class_name\":\"ZeroPadding2D\"") && json.contains("[[2,0],[1,3]]"), json);
    Graph loaded = ModelFiles.load(dir);
    assertEquals(model.summary(), loaded.summary());
    assertTrue(loaded.summary().contains("zeropad2 (ZeroPadding2D)"), loaded.summary());
    assertEquals(Shape.of(3, 8, 9), loaded.layers().get(2).outputShape());
    assertEquals(model.layers().get(2).config(), loaded.layers().get(2).config());
    var data = GradientCheck.randomData(model.inputShape(), 8, 4, 3);
    try (CpuBackend cpu = TestBackends.cpu(2)) {
      var loss = new SparseCategoricalCrossentropy(true);
      assertArrayEquals(
          new Trainer(model, new Adam(1e-3), loss, cpu).predict(data.features()).array(),
          new Trainer(loaded, new Adam(1e-3), loss, cpu).predict(data.features()).array());
    }
  }

  private static Graph zeroPaddingModel(String padding) {
    String json =
        "{\"format\":\"marrow.sequential\",\"version\":1,\"input_shape\":[2,5,6],"
            + "\"layers\":[{\"type\":\"zeropad\",\"config\":{\"padding\":"
            + padding
            + "}}]}";
    return ModelFormat.fromConfig(Json.parse(json), "model.json").build(0);
  }

  @Test
  void zeroPaddingReadsEveryKerasForm() {
    assertEquals(Shape.of(2, 9, 10), zeroPaddingModel("2").outputShape());
    assertEquals(Shape.of(2, 7, 12), zeroPaddingModel("[1, 3]").outputShape());
    assertEquals(Shape.of(2, 6, 8), zeroPaddingModel("[[0, 1], [2, 0]]").outputShape());
    var e =
        assertThrows(IllegalArgumentException.class, () -> zeroPaddingModel("[[1, -1], [0, 0]]"));
    assertTrue(e.getMessage().contains("padding[0][1]"), e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> zeroPaddingModel("[1, 2, 3]"));
    assertTrue(e.getMessage().contains("2 entries"), e.getMessage());
  }

  @Test
  void everyActivationRoundTripsThroughModelJson() throws IOException {
    for (Activation a : Activation.values()) {
      Sequential model =
          new Sequential(1, 6, 6)
              .add(
                  Conv2D.builder(2, 3)
                      .activation(a == Activation.SOFTMAX ? Activation.LINEAR : a)
                      .build())
              .add(new ActivationLayer(a))
              .add(new Flatten())
              .add(new Dense(3, a))
              .build(1);
      Path d = dir.resolve(a.kerasName());
      ModelFiles.save(model, d, Map.of());
      String json = Files.readString(d.resolve(ModelFiles.ARCHITECTURE));
      assertTrue(json.matches("(?s).*\"activation\":\\s*\"" + a.kerasName() + "\".*"), json);
      Graph loaded = ModelFiles.load(d);
      assertEquals(a, ((ActivationLayer) loaded.layers().get(1)).activation());
      assertEquals(a, ((Dense) loaded.layers().get(3)).activation());
      assertEquals(model.summary(), loaded.summary());
    }
  }

  @Test
  void swishIsReadAsSilu() throws IOException {
    ModelFiles.save(
        new Sequential(4).add(new ActivationLayer(Activation.SILU)).build(1), dir, Map.of());
    Path json = dir.resolve(ModelFiles.ARCHITECTURE);
    Files.writeString(json, Files.readString(json).replace("\"silu\"", "\"swish\""));
    assertTrue(Files.readString(json).contains("\"swish\""));
    Graph loaded = ModelFiles.load(dir);
    assertEquals(Activation.SILU, ((ActivationLayer) loaded.layers().get(0)).activation());
    assertEquals(Activation.LEAKY_RELU, Activation.fromName("leaky_relu"));
    assertEquals(Activation.GELU, Activation.fromName("GELU"));
    var e = assertThrows(IllegalArgumentException.class, () -> Activation.fromName("mish"));
    assertTrue(e.getMessage().contains("softplus"), e.getMessage());
  }

  @Test
  void mismatchedWeightsNameTheTensor() throws IOException {
    ModelFiles.save(everyLayer(), dir, Map.of());
    Sequential other = new Sequential(1, 10, 10).add(new Flatten()).add(new Dense(5)).build(1);
    var e =
        assertThrows(
            IOException.class,
            () -> ModelFiles.loadWeights(other, dir.resolve(ModelFiles.WEIGHTS)));
    assertTrue(
        e.getMessage().contains("dense1.weight") && e.getMessage().contains("(100, 5)"),
        e.getMessage());
  }

  @Test
  void badModelJsonNamesTheLayerAndField() throws IOException {
    Files.writeString(
        dir.resolve(ModelFiles.ARCHITECTURE),
        "{\"format\":\"marrow.sequential\","
            + "\"version\":1,\"input_shape\":[4],\"layers\":[{\"type\":\"dense\",\"config\":"
            + "{\"units\":-3}}]}");
    var e = assertThrows(IOException.class, () -> ModelFiles.load(dir));
    assertTrue(
        e.getMessage().contains("layers[0] (dense)") && e.getMessage().contains("units"),
        e.getMessage());
    Files.writeString(dir.resolve(ModelFiles.ARCHITECTURE), "[".repeat(10_000));
    var deep = assertThrows(IOException.class, () -> ModelFiles.load(dir));
    assertTrue(deep.getMessage().contains("nested deeper"), deep.getMessage());
  }

  private Path safetensors(String header, int dataBytes) throws IOException {
    byte[] h = header.getBytes(StandardCharsets.UTF_8);
    ByteBuffer b = ByteBuffer.allocate(8 + h.length + dataBytes).order(ByteOrder.LITTLE_ENDIAN);
    b.putLong(h.length).put(h);
    Path p = dir.resolve("t.safetensors");
    Files.write(p, b.array());
    return p;
  }

  @Test
  void hostileSafetensorsAreRejectedWithTheReason() throws IOException {
    String[][] cases = {
      {
        "{\"w\":{\"dtype\":\"F32\",\"shape\":[2,2],\"data_offsets\":[0,16]}}",
        "8",
        "needs more data"
      },
      {"{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[8,12]}}", "8", "outside"},
      {"{\"w\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,16]}}", "16", "needs 12"},
      {"{\"w\":{\"dtype\":\"F64\",\"shape\":[2],\"data_offsets\":[0,16]}}", "16", "dtype F64"},
      {
        "{\"w\":{\"dtype\":\"F32\",\"shape\":[2147483647,2147483647],\"data_offsets\":[0,8]}}",
        "8",
        "needs more data"
      },
      {"{\"w\":{\"dtype\":\"F32\",\"shape\":[-1],\"data_offsets\":[0,0]}}", "0", "dimension 0"},
      {
        "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
            + "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}",
        "12",
        "overlap"
      },
      {"{\"w\":", "0", "not valid JSON"},
    };
    for (String[] c : cases) {
      Path p = safetensors(c[0], Integer.parseInt(c[1]));
      var e = assertThrows(SafeTensors.FormatException.class, () -> SafeTensors.read(p), c[0]);
      assertTrue(
          e.getMessage().contains(c[2]) && e.getMessage().contains(p.toString()),
          c[2] + " in: " + e.getMessage());
    }
    Path huge = dir.resolve("huge.safetensors");
    Files.write(
        huge,
        ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN).putLong(Long.MAX_VALUE).array());
    var e = assertThrows(SafeTensors.FormatException.class, () -> SafeTensors.read(huge));
    assertTrue(e.getMessage().contains("header length"), e.getMessage());
  }
}
