"""The user-edited config files: reading them with line numbers, validating, resolving defaults."""
