"""Detection: turns a Terraform plan into findings, then silences and grades them (no I/O on import)."""
