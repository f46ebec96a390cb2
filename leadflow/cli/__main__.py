"""`python -m leadflow.cli …` (tests and subprocess workers start the CLI this way)."""

from leadflow.cli import app

app()
