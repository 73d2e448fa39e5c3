"""Reusable widgets."""

from tui.widgets.virtual_table import Column, Row, VirtualTable

__all__ = ["Column", "Row", "VirtualTable"]
