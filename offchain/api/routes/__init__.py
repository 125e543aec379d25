"""The API's routers, one module per area; each is `router(ctx: ApiContext) -> APIRouter`.

`offchain.api.app.create_app` includes them in `ROUTERS` order. A new endpoint group is a new module
here plus one line there.
"""
