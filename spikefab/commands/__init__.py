"""One module per ``spikefab`` subcommand, each with ``register(subparsers)``."""
