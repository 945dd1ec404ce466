"""Widgets of the app: code cells, result panels, check reports, plots."""
