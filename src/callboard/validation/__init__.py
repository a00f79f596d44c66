"""Flow definition validation, as Studio's Validate endpoint does it.

:mod:`callboard.validation.definition` checks the top level and each state (``validate``,
``validate_flow``); :mod:`callboard.validation.transitions` the transitions and Split
Based On's conditions; :mod:`callboard.validation.props` property values. Property and
event rules come from the widget modules, through the
:class:`~callboard.contract.widget.WidgetCatalog` passed in (the widget registry by
default), so this package sits above ``callboard.widgets``.
"""

__all__: list[str] = []
