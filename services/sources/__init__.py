"""Sources: feeds, JSON Feed, sitemaps and feed lists read from bytes into entries; discovery."""
