package dev.marrow.models.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.marrow.engine.data.Dataset;
import dev.marrow.engine.tensor.Shape;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CsvTableTest {
  @TempDir Path dir;

  private Path csv(String text) throws IOException {
    Path f = dir.resolve("table.csv");
    Files.writeString(f, text);
    return f;
  }

  @Test
  void regressionTargetsAndFeaturesByName() throws IOException {
    Path f = csv("rooms,price,area\n3,250.5,80\n4, 310 ,\"95\"\n2,180,60\n");
    CsvTable t = CsvTable.read(f, List.of("price"), CsvTable.Task.AUTO);
    assertEquals(CsvTable.Task.REGRESSION, t.task());
    assertEquals(List.of("rooms", "area"), t.featureColumns());
    Dataset d = t.data();
    assertEquals(Shape.of(2), d.sampleShape());
    assertArrayEquals(new float[] {3, 80, 4, 95, 2, 60}, d.features().readArray());
    assertArrayEquals(new float[] {250.5f, 310, 180}, d.values().readArray());
  }

  @Test
  void textLabelsBecomeNamedClassesAndNumbersSortAsNumbers() throws IOException {
    Path f = csv("a,b,species\n1,2,setosa\n3,4,virginica\n5,6,setosa\n7,8,versicolor\n");
    Dataset d = CsvTable.read(f, List.of("species"), CsvTable.Task.AUTO).data();
    assertEquals(List.of("setosa", "versicolor", "virginica"), d.targets().classNames());
    assertArrayEquals(new int[] {0, 2, 0, 1}, d.labels());
    Path g = csv("x,grade\n1,10\n2,9\n3,10\n4,2\n");
    Dataset numeric = CsvTable.read(g, List.of("grade"), CsvTable.Task.CLASSIFICATION).data();
    assertEquals(List.of("2", "9", "10"), numeric.targets().classNames());
  }

  @Test
  void severalZeroOneColumnsAreMultiLabel() throws IOException {
    Path f = csv("x,y,cat,dog\n1,2,1,0\n3,4,1,1\n");
    CsvTable t = CsvTable.read(f, List.of("cat", "dog"), CsvTable.Task.CLASSIFICATION);
    assertArrayEquals(new float[] {1, 0, 1, 1}, t.data().values().readArray());
    Path bad = csv("x,cat,dog\n1,1,0\n3,2,1\n");
    var e =
        assertThrows(
            DataFileException.class,
            () -> CsvTable.read(bad, List.of("cat", "dog"), CsvTable.Task.CLASSIFICATION));
    assertEquals(
        bad + ": line 3, column 'cat': multi-label targets are 0 or 1, got 2", e.getMessage());
  }

  @Test
  void predictionInputsFollowTheSavedColumnOrderWithoutTargets() throws IOException {
    Path f = csv("area,rooms\n80,3\n95,4\n");
    assertArrayEquals(
        new float[] {3, 80, 4, 95}, CsvTable.readFeatures(f, List.of("rooms", "area")).readArray());
  }

  @Test
  void badTablesNameTheFileLineAndColumn() throws IOException {
    assertMessage("a,b\n1,2\n3\n", "b", ": line 3: 1 fields, expected 2 as in the header");
    assertMessage("a,b\n1,2\nx1,3\n", "b", ": line 3, column 'a': 'x1' is not a number");
    assertMessage("a,b\n1,2\n,3\n", "b", ": line 3, column 'a': empty cell in a feature column");
    assertMessage("a,b\n1,NaN\n", "b", ": line 2, column 'b': 'NaN' in a target column");
    assertMessage("a,b\n1,Infinity\n", "b", "'Infinity' in a target column; expected a finite");
    assertMessage("a,b\n1,2\n", "price", ": no target column 'price'; the columns are [a, b]");
    assertMessage("a,b\n", "b", ": a header but no rows");
    assertMessage("a,a\n1,2\n", "a", "column names must be unique");
    assertMessage("a,b\n1,x\n2,x\n", "b", "holds one class only: [x]");
    var missing =
        assertThrows(
            DataFileException.class,
            () -> CsvTable.read(dir.resolve("nope.csv"), List.of("y"), CsvTable.Task.AUTO));
    assertTrue(
        missing
            .getMessage()
            .endsWith("nope.csv: no such file (expected a CSV table with a header)"));
  }

  private void assertMessage(String text, String target, String expected) throws IOException {
    Path f = csv(text);
    var e =
        assertThrows(
            DataFileException.class, () -> CsvTable.read(f, List.of(target), CsvTable.Task.AUTO));
    assertTrue(e.getMessage().startsWith(f.toString()), e.getMessage());
    assertTrue(e.getMessage().contains(expected), e.getMessage());
  }
}
