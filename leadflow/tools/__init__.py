"""Tools the agents use: CRM store, knowledge base, rep directory, notifier, ingest parsers."""
