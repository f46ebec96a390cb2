"""What-if replays (`leadflow whatif`, docs/whatif.md): stored leads through a changed
configuration in a scratch CRM — the configuration (`config`), what is read from the live CRM
(`history`), the replay (`replay`) and the comparison (`report`)."""
