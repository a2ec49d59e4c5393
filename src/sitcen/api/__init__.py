"""The HTTP API: app assembly, one router per resource."""
