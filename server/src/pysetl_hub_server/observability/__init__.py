"""Observability: Prometheus metrics, the request id, and the per-request layer that records
both (docs/operations/monitor.md)."""
