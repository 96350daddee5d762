import VolumeCore

/// Namespace of slice rendering (issue 8); this file only anchors the module.
public enum SliceRenderingModule {}
