"""The web app: the program board, department pages, a person's actions, the live report,
and actions from signed links (`pilotscale web`, also started by `pilotscale serve`).

Server-rendered HTML (Jinja2, autoescaped), no script: every page works printed or in a
text browser. Imported lazily by the CLI: `pilotscale --help` never loads FastAPI.
"""
