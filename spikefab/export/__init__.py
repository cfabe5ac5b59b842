"""Exporters: a compiled image in other tools' formats (SANA-FE today)."""

from spikefab.export.sanafe import SanafeNetwork, export_sanafe, sanafe_network

__all__ = ["SanafeNetwork", "export_sanafe", "sanafe_network"]
