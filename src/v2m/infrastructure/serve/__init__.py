"""`v2m serve`: the daemon's model as an OpenAI-compatible HTTP endpoint.

Nothing here is imported on the client path: `token` is standard library
only (for `v2m serve token`); `app` and `runner` import Starlette and
uvicorn, and only the daemon with a server configured reaches them.
"""
