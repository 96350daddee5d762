import VolumeCore
import Registration

/// Namespace of few-shot segmentation (support sets, predictors, label fusion).
/// The engine itself is tracked in issue 5; this file only anchors the module.
public enum SegmentationModule {}
