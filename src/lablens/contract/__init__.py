"""The client contract: what the SDK, the ``Api``, the widgets and the server must agree on.

A leaf: it imports nothing from lablens but ``lablens.errors``, so every layer may use it and none
needs another layer for it. Import from its modules, each named for what it holds:

- :mod:`.paths`: the paths users type (``entity/project/run_id``, W&B and SwanLab URLs);
- :mod:`.routes`: the server's routes, each segment quoted whole;
- :mod:`.fields`: the run-field catalogue that filters, orders and run tables use;
- :mod:`.names`: x-axis and stream names, as ``Literal`` types;
- :mod:`.flatten`: nested dicts to dotted keys;
- :mod:`.artifact_names`, :mod:`.artifact_paths`, :mod:`.manifest`: artifact names, routes and
  manifests, and what it means for a local copy to match one;
- :mod:`.media`: the media types (images, tables, histograms...), their formats and one logged
  item's wire form.
"""
