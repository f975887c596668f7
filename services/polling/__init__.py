"""Polling: the feed registry, the schedule that says when each feed is due, and the poll itself."""
