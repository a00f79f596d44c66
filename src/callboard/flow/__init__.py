"""Flow definitions and what they hold: the model (:mod:`callboard.flow.model`), Liquid
templates (:mod:`callboard.flow.liquid`) and Split Based On's conditions
(:mod:`callboard.flow.conditions`). The bottom layer: it imports no other package of
Callboard."""

__all__: list[str] = []
