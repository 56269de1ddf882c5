"""The quality score: visible, weighted signals computed from what the hub stores."""
