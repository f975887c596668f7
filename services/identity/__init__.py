"""Identity: which links, pages and texts are the same story, and when one is a new version."""
