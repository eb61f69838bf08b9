package dev.marrow.engine.nn;

import dev.marrow.engine.tensor.Shape;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The merge layers through the shared layer test helper. */
class MergeLayerTest {
  @Test
  void add() {
    LayerTestHelper.check(Add::new, List.of(Shape.of(2, 2, 3), Shape.of(2, 2, 3)));
  }

  @Test
  void addOfThree() {
    LayerTestHelper.check(Add::new, List.of(Shape.of(4), Shape.of(4), Shape.of(4)));
  }

  @Test
  void multiply() {
    LayerTestHelper.check(Multiply::new, List.of(Shape.of(5), Shape.of(5), Shape.of(5)));
  }

  @Test
  void average() {
    LayerTestHelper.check(Average::new, List.of(Shape.of(3, 2, 2), Shape.of(3, 2, 2)));
  }

  @Test
  void concatenateChannels() {
    LayerTestHelper.check(Concatenate::new, List.of(Shape.of(1, 2, 3), Shape.of(2, 2, 3)));
  }

  @Test
  void concatenateLastAxis() {
    LayerTestHelper.check(() -> new Concatenate(-1), List.of(Shape.of(2, 2, 1), Shape.of(2, 2, 3)));
  }

  @Test
  void singleInputLayersToo() {
    LayerTestHelper.check(() -> new Dense(4, "tanh"), Shape.of(3));
    LayerTestHelper.check(GlobalMaxPooling2D::new, Shape.of(2, 3, 3));
    LayerTestHelper.check(() -> new ZeroPadding2D(1, 0, 2, 1), Shape.of(2, 3, 2));
  }
}
