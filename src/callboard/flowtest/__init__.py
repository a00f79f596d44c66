"""Flow tests: golden conversations run against a flow (``callboard test``).

Layers inside the package, lowest first: :mod:`.model` (what a test file says),
:mod:`.loader` (YAML/JSON with line numbers, strict keys), :mod:`.schema` (the JSON
Schema of the format), :mod:`.expect` (matching text and mocks), :mod:`.runner` (runs one
test against a :class:`~callboard.flowtest.runner.Driver`), :mod:`.report`,
:mod:`.junit` and :mod:`.coverage` (output), and :mod:`.driver` — the ONE module that
talks to the runtime (the durable service on a temporary database, or a server over
HTTP). See ``docs/testing-flows.md``.
"""
