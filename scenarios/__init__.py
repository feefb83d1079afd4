"""scenarios package (see DESIGN.md)."""
