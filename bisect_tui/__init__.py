"""harden-bisect: find which systemd hardening directive breaks a service."""

__version__ = "0.1.0"
