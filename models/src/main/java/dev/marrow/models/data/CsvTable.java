package dev.marrow.models.data;

import dev.marrow.engine.data.Dataset;
import dev.marrow.engine.tensor.Tensor;
import java.io.IOException;
import java.io.Reader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import org.apache.commons.csv.CSVFormat;
import org.apache.commons.csv.CSVParser;
import org.apache.commons.csv.CSVRecord;

/**
 * A table from a CSV file with a header row: the named target column(s) become the targets, every
 * other column a numeric feature. For classification one target column holds class names (any text;
 * sorted, numerically when they are numbers, they become class indices) or several 0/1 columns hold
 * multi-label targets; for regression the target columns hold numbers. Every cell is checked: a
 * ragged row, a non-numeric or empty feature, NaN or ±Inf anywhere is a {@link DataFileException}
 * naming the file, line and column.
 */
public final class CsvTable {
  /** What the targets are; AUTO: classification for a text column, regression otherwise. */
  public enum Task {
    CLASSIFICATION,
    REGRESSION,
    AUTO
  }

  private final Dataset data;
  private final List<String> featureColumns;
  private final List<String> targetColumns;
  private final Task task;

  private CsvTable(Dataset data, List<String> features, List<String> targets, Task task) {
    this.data = data;
    this.featureColumns = List.copyOf(features);
    this.targetColumns = List.copyOf(targets);
    this.task = task;
  }

  /** Features (N, features) and targets; class names for classification. */
  public Dataset data() {
    return data;
  }

  public List<String> featureColumns() {
    return featureColumns;
  }

  public List<String> targetColumns() {
    return targetColumns;
  }

  /** CLASSIFICATION or REGRESSION, never AUTO. */
  public Task task() {
    return task;
  }

  /** Reads a table; {@code targets} are column names, at least one. */
  public static CsvTable read(Path file, List<String> targets, Task task) throws IOException {
    if (targets.isEmpty()) {
      throw new IllegalArgumentException("name at least one target column");
    }
    Cells cells = Cells.read(file);
    int[] targetAt = new int[targets.size()];
    for (int t = 0; t < targets.size(); t++) {
      targetAt[t] = cells.column(targets.get(t), "target");
    }
    List<String> features = new ArrayList<>(cells.header);
    features.removeAll(targets);
    if (features.isEmpty()) {
      throw new DataFileException(file + ": no feature columns besides the targets " + targets);
    }
    int[] featureAt = features.stream().mapToInt(f -> cells.header.indexOf(f)).toArray();
    float[] x = cells.numbers(featureAt, "feature");
    int n = cells.rows.size();
    Tensor features2d = Tensor.of(x, n, featureAt.length);
    Task resolved = task;
    if (resolved == Task.AUTO) {
      resolved =
          targets.size() == 1 && !cells.allNumeric(targetAt[0])
              ? Task.CLASSIFICATION
              : Task.REGRESSION;
    }
    Dataset data;
    if (resolved == Task.REGRESSION) {
      float[] y = cells.numbers(targetAt, "target");
      data = Dataset.withValues(features2d, Tensor.of(y, n, targetAt.length));
    } else if (targets.size() == 1) {
      List<String> names = cells.classNames(targetAt[0]);
      Map<String, Integer> index = new HashMap<>();
      for (int i = 0; i < names.size(); i++) {
        index.put(names.get(i), i);
      }
      int[] labels = new int[n];
      for (int r = 0; r < n; r++) {
        labels[r] = index.get(cells.rows.get(r)[targetAt[0]]);
      }
      if (names.size() < 2) {
        throw new DataFileException(
            file + ": target column '" + targets.get(0) + "' holds one class only: " + names);
      }
      data = new Dataset(features2d, labels, names);
    } else {
      float[] y = cells.numbers(targetAt, "target");
      for (int i = 0; i < y.length; i++) {
        if (y[i] != 0 && y[i] != 1) {
          int r = i / targetAt.length;
          throw new DataFileException(
              cells.where(r, targetAt[i % targetAt.length])
                  + ": multi-label targets are 0 or 1, got "
                  + cells.rows.get(r)[targetAt[i % targetAt.length]]);
        }
      }
      data = Dataset.withValues(features2d, Tensor.of(y, n, targetAt.length));
    }
    return new CsvTable(data, features, targets, resolved);
  }

  /**
   * The named feature columns of a CSV file (in that order, other columns ignored: the targets may
   * be absent), for predictions with a model trained on {@link #read}'s table: (N, features).
   */
  public static Tensor readFeatures(Path file, List<String> featureColumns) throws IOException {
    Cells cells = Cells.read(file);
    int[] at = new int[featureColumns.size()];
    for (int i = 0; i < at.length; i++) {
      at[i] = cells.column(featureColumns.get(i), "feature");
    }
    return Tensor.of(cells.numbers(at, "feature"), cells.rows.size(), at.length);
  }

  /** The raw cells of a file, every row as long as the header. */
  private record Cells(Path file, List<String> header, List<String[]> rows, long[] lines) {
    static Cells read(Path file) throws IOException {
      if (!Files.isRegularFile(file)) {
        throw new DataFileException(file + ": no such file (expected a CSV table with a header)");
      }
      CSVFormat format =
          CSVFormat.DEFAULT.builder().setHeader().setSkipHeaderRecord(true).setTrim(true).get();
      try (Reader in = Files.newBufferedReader(file, StandardCharsets.UTF_8);
          CSVParser parser = CSVParser.parse(in, format)) {
        List<String> header = parser.getHeaderNames();
        if (header.isEmpty()) {
          throw new DataFileException(file + ": empty, expected a header row of column names");
        }
        Map<String, Integer> seen = new LinkedHashMap<>();
        for (String h : header) {
          if (h.isEmpty() || seen.put(h, seen.size()) != null) {
            throw new DataFileException(
                file + ": line 1: column names must be unique and non-empty, got " + header);
          }
        }
        List<String[]> rows = new ArrayList<>();
        List<Long> lines = new ArrayList<>();
        for (CSVRecord record : parser) {
          long line = record.getRecordNumber() + 1; // the header is line 1
          if (record.size() != header.size()) {
            throw new DataFileException(
                file
                    + ": line "
                    + line
                    + ": "
                    + record.size()
                    + " fields, expected "
                    + header.size()
                    + " as in the header");
          }
          rows.add(record.values());
          lines.add(line);
        }
        if (rows.isEmpty()) {
          throw new DataFileException(file + ": a header but no rows");
        }
        return new Cells(file, header, rows, lines.stream().mapToLong(Long::longValue).toArray());
      } catch (UncheckedIOException e) {
        throw new DataFileException(file + ": " + e.getCause().getMessage(), e);
      } catch (IllegalArgumentException | IllegalStateException e) {
        throw new DataFileException(file + ": not a valid CSV table: " + e.getMessage(), e);
      }
    }

    int column(String name, String role) throws DataFileException {
      int i = header.indexOf(name);
      if (i < 0) {
        throw new DataFileException(
            file + ": no " + role + " column '" + name + "'; the columns are " + header);
      }
      return i;
    }

    String where(int row, int column) {
      return file + ": line " + lines[row] + ", column '" + header.get(column) + "'";
    }

    /** The given columns of every row as finite floats, row-major. */
    float[] numbers(int[] columns, String role) throws DataFileException {
      float[] out = new float[Math.multiplyExact(rows.size(), columns.length)];
      for (int r = 0; r < rows.size(); r++) {
        for (int c = 0; c < columns.length; c++) {
          String cell = rows.get(r)[columns[c]];
          float v;
          try {
            v = cell.isEmpty() ? Float.NaN : Float.parseFloat(cell);
          } catch (NumberFormatException e) {
            throw new DataFileException(
                where(r, columns[c]) + ": '" + cell + "' is not a number (" + role + " column)");
          }
          if (!Float.isFinite(v)) {
            throw new DataFileException(
                where(r, columns[c])
                    + ": "
                    + (cell.isEmpty() ? "empty cell" : "'" + cell + "'")
                    + " in a "
                    + role
                    + " column; expected a finite number");
          }
          out[r * columns.length + c] = v;
        }
      }
      return out;
    }

    boolean allNumeric(int column) {
      for (String[] row : rows) {
        try {
          Double.parseDouble(row[column]);
        } catch (NumberFormatException e) {
          return false;
        }
      }
      return true;
    }

    /** The distinct values of a column, sorted as numbers when they all are, else as text. */
    List<String> classNames(int column) throws DataFileException {
      TreeSet<String> names =
          new TreeSet<>(
              allNumeric(column)
                  ? Comparator.comparingDouble(Double::parseDouble)
                      .thenComparing(Comparator.naturalOrder())
                  : Comparator.<String>naturalOrder());
      for (int r = 0; r < rows.size(); r++) {
        if (rows.get(r)[column].isEmpty()) {
          throw new DataFileException(where(r, column) + ": empty class label");
        }
        names.add(rows.get(r)[column]);
      }
      return List.copyOf(names);
    }
  }

  @Override
  public String toString() {
    return data.size()
        + " rows, features "
        + featureColumns
        + ", targets "
        + targetColumns
        + " ("
        + task.name().toLowerCase(java.util.Locale.ROOT)
        + (data.targets().isClasses() ? ", classes " + data.targets().classNames() : "")
        + ")";
  }
}
