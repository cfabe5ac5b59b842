"""One module per ``spikeforge`` subcommand, each with ``register(subparsers)``."""
