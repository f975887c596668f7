"""Fetch: the guarded HTTP client and its manners (robots.txt, host politeness, deadlines)."""
