"""The widget contract: what the engine and the widget modules agree on.

* :mod:`callboard.contract.io` — the events that go into the engine and the effects that
  come out of it (plain JSON when stored).
* :mod:`callboard.contract.widget` — what a widget module implements (:class:`Widget`, its
  :class:`Prop` and :class:`EventSpec` declarations, the :class:`Done` / :class:`Wait` /
  :class:`EnterSubflow` outcomes), the :class:`Run` it is given, and the
  :class:`WidgetCatalog` the engine looks widgets up in.

Layering: ``callboard.flow`` < ``callboard.contract`` < ``callboard.widgets`` and
``callboard.engine`` (which never import each other). Import from the modules; this
package re-exports nothing.
"""

__all__: list[str] = []
