"""The node's command-line groups, added to the ``idfuse`` console script."""
