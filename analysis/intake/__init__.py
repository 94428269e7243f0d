"""Reading a data folder: the data dictionary, ``dataset.yaml``, units, file readers, sniffing, validation, hints,
personal identifiers, and ``io.load`` -> a validated ``Cohort``.

May import: ``core``.
"""
