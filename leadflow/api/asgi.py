"""ASGI entry point for uvicorn (`leadflow serve`, or `uvicorn leadflow.api.asgi:app`):
the app built from the environment."""

from leadflow.api.app import create_app

app = create_app()
