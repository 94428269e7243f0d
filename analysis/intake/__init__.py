"""Reading a data folder: the data dictionary, ``dataset.yaml``, units, file readers, sniffing, validation, hints,
personal identifiers, and ``io.load`` -> a validated ``Cohort``.

Inside the room, imports run one way (leaves first): ``dictionary``, ``units``, ``problem`` <- ``dataset``,
``grid``, ``readers``, ``pii`` <- ``contract`` (the data contract's rules) <- ``sniff``, ``hints`` <- ``validate``
(the orchestrator) <- ``io``; ``schemas`` and ``template`` need only the dictionary.

May import: ``core``.
"""
