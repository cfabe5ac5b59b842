"""The example programs, installed as ``spikefab.examples`` so that a wheel carries them.

Each file is a script first (``python examples/NAME.py --help`` in a checkout) and a module
second: ``spikefab demo`` imports :mod:`spikefab.examples.digits`, and after ``pip install
spikefab`` every example runs as ``python -m spikefab.examples.NAME`` (the builder script
``hello_builder.py`` is also a ``spikefab compile`` model: its path is that module's ``__file__``).
"""
