/// Namespace of the terminal layer (issue 3); this file only anchors the module.
public enum TerminalModule {}
