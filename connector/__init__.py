"""connector package (see DESIGN.md)."""
