"""The `idfuse` command line."""
