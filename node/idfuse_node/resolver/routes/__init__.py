"""The resolver's FastAPI routers: the Handle REST API, the native ``/v1`` API, operations."""
