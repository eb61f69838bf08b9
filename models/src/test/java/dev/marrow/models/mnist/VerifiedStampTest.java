package dev.marrow.models.mnist;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Instant;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class VerifiedStampTest {
  @TempDir Path dir;

  @Test
  void aStampHoldsUntilTheFileChangesInSizeOrTime() throws IOException {
    Path file = Files.write(dir.resolve("train-images-idx3-ubyte"), new byte[] {1, 2, 3, 4});
    String digest = MnistFiles.digest(file, "SHA-256", false);
    assertFalse(VerifiedStamp.matches(file, "SHA-256", digest), "nothing verified yet");
    VerifiedStamp.write(file, "SHA-256", digest);
    assertTrue(VerifiedStamp.matches(file, "SHA-256", digest));
    assertFalse(VerifiedStamp.matches(file, "SHA-256", "00" + digest), "another expected digest");
    assertFalse(VerifiedStamp.matches(file, "MD5", digest), "another algorithm");

    Files.setLastModifiedTime(file, FileTime.from(Instant.parse("2020-01-01T00:00:00Z")));
    assertFalse(VerifiedStamp.matches(file, "SHA-256", digest), "touched: hashed again");
    VerifiedStamp.write(file, "SHA-256", digest);
    Files.write(file, new byte[] {1, 2, 3, 4, 5});
    assertFalse(VerifiedStamp.matches(file, "SHA-256", digest), "rewritten: hashed again");
  }

  @Test
  void aDirectoryThatCannotTakeAStampOnlyCostsTheHash() throws IOException {
    Path file = dir.resolve("no-such-folder").resolve("t10k-labels-idx1-ubyte");
    VerifiedStamp.write(file, "SHA-256", "ab"); // no exception: the file is hashed next time
    assertFalse(VerifiedStamp.matches(file, "SHA-256", "ab"));
  }
}
