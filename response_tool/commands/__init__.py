"""Sub-commands of the ``response-tool`` CLI (one module each: ``add_parser`` and ``run``)."""
