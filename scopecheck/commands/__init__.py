"""One module per group of sub-commands; see ``scopecheck.cli``."""
