"""Shared exceptions: listed in the guide's Project Structure, its content is never shown."""
