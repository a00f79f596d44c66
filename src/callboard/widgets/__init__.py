"""The widget types: one module per type, each implementing
:mod:`callboard.contract.widget`; :mod:`callboard.widgets.registry` finds them. Helper
modules (``common``, ``http_common``, ``voice_common``) are not widgets."""

__all__: list[str] = []
