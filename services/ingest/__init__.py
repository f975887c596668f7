"""Ingest: the story path from an entry to an outcome; the one-shot, archive and replay runs."""
