"""EGA: minority points learned by explicit gradients."""
