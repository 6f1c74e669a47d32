"""The HTTP surface: AWS JSON 1.1 control plane (and, later, the runtime and /metrics)."""
