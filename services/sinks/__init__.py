"""Sinks: the article stream delivered into other systems, exactly once into each."""
