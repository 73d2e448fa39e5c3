"""Volcengine (火山引擎) VMS number privacy: request signing and the AXN/AXB binding client."""
