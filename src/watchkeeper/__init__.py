"""Watchkeeper: a self-hosted model monitor that speaks the SageMaker Model Monitor API."""

__version__ = "0.1.0"
