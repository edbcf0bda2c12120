"""Dock widgets of the plugin (Qt). Thin: they call the core and show its errors as notifications."""
