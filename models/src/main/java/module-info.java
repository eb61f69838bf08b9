/**
 * Marrow's model zoo ({@code dev.marrow.models.zoo}), the MNIST family of datasets ({@code
 * dev.marrow.models.mnist}) and loaders for the user's own data: CSV tables, image folders and IDX
 * files streamed from disk ({@code dev.marrow.models.data}).
 */
module dev.marrow.models {
  // The zoo returns engine networks and DigitImages takes a BufferedImage: users of this module
  // need both modules too.
  requires transitive dev.marrow.engine;
  requires transitive java.desktop;
  requires java.net.http;
  requires org.apache.commons.compress;
  requires org.apache.commons.csv;

  exports dev.marrow.models.data;
  exports dev.marrow.models.mnist;
  exports dev.marrow.models.zoo;
}
