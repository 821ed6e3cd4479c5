"""The parts of ``ArtifactBrowser`` (``lablens.widgets.artifact_browser``), one concept a module.

- ``listings``: what each level of the tree (types, collections, versions, files) shows, as
  nodes and as the DataFrame its ``code`` gives;
- ``lineage``: a version's details and the runs that logged and used it;
- ``preview``: a file's preview (text, image, table or a note).
"""
