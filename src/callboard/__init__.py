"""Callboard: a self-hosted Twilio Studio."""

__version__ = "0.1.0"
