"""Anomaly flags: raised automatically, recorded as `flag.raise` audit events."""
