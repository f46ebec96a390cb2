"""The five agents. Each module holds its structured-output schema, its rules
implementation and the deterministic policy around it (SPEC §4)."""
