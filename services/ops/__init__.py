"""Ops: what operators read: the status report and the Prometheus exposition."""
