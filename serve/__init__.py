"""`devsearch serve`: a local web gallery over the store (Starlette app, uvicorn server, plain-module page).

library.py is the one place that reads the store and the search engine; the rest sees results,
records and files. Layers: cli -> serve -> search/store/model -> core.
"""
