"""Read-only pages behind the ``url`` the reprs print: a project (``/{entity}/{project}``), a
run (``/{entity}/{project}/runs/{id}``) and a sweep (``.../sweeps/{id}``), with a sign-in form
that sets a session cookie, since a browser sends no API key. Built with the page parts of
reports (``lablens.contract.page``).

``routes.py`` holds the routes, ``views.py`` and ``sweep_view.py`` the HTML, ``session.py`` the
sign-in.
"""

from lablens.server.pages.routes import router

__all__ = ["router"]
