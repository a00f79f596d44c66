"""The CLI's sub-commands, one module per area; :mod:`callboard.cli` assembles them."""
