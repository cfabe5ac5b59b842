"""The wheel smoke (issue 14).  Not named ``packaging``: tests/ folders are import roots, and
that name would shadow the ``packaging`` library."""
