"""SwanLab's HTTP protocol, so the unmodified ``swanlab.Api(api_key=..., host=...)`` reads a
lablens server: login, workspaces, projects, runs, metrics, summaries and the signed-in user.

Everything is answered from the store through its interface; nothing is kept between requests.
"""

from lablens.server.swanlab.routers import router

__all__ = ["router"]
