import VoxtermModel
import SliceRendering
import Terminal

/// Namespace of the TUI workbench (issue 3); this file only anchors the module.
public enum WorkbenchModule {}
