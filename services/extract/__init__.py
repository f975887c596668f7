"""Extract: a page's HTML into a story body and metadata, and the Article built from it."""
