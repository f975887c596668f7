"""Delivery: articles onto the stream exactly once, and the consumer API that reads them."""
