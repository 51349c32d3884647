"""The HTTP API: the CLI's commands under /api/v1, with an OpenAPI schema."""
