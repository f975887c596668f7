"""The newswire domain: one module per pipeline stage, pure where it can be, I/O behind seams."""
