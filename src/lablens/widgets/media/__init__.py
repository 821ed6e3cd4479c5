"""The parts of ``MediaPanel`` (``lablens.widgets.media_panel``), one concept a module.

- ``reads``: the Api calls the panel makes (the runs and their media keys, the items of a key,
  what each item at a step gives) and the code that repeats them;
- ``cells``: what the page draws from those items, one payload per run column (thumbnails as
  bytes, a table's page as Arrow IPC, a histogram's counts over steps).
"""
