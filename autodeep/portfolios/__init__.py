"""Portfolios: the configurations a search tries first, shipped as data.

``tables.json`` holds the table search's first configurations (``{full_name: value}`` each, in the order they
are tried), its ``learned_by`` the command of ``benchmarks/portfolio.py`` that wrote it and ``commit`` the code it
ran. ``autodeep.modalities.table_starts`` reads it.
"""
