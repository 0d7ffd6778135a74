"""The emulator's HTTP face: Foundry's routes on a FastAPI app, with faults, auth and rate limiting.

The routes are the contract's (:data:`airflow_provider_modelstudio.foundry.endpoints.ENDPOINTS`), one
handler each; the app refuses to start when an endpoint has none. Every Foundry request goes through one
pipeline: draw the fault plan, ask the build read rate limit (for the endpoints the contract marks
``build_read``), wait out latency or a hang, answer a fault or else check the bearer token, the endpoint's
scope and ``preview=true`` and run the state operation, then apply after-the-fact faults (cut the body,
drop the connection after a launch) and count the answer. Unknown routes answer 404 with an empty body,
like a Foundry without the endpoint. The admin API under ``/_emulator/`` lives in :mod:`.admin`, the pages the
provider's links open in :mod:`.pages`.

The outermost wrapper (:class:`EmulatorApp`) puts uvicorn's transport into the scope so that
:class:`~.responses.DropConnection` can close the connection without an answer.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import json
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import parse_qsl, unquote_plus

from fastapi import FastAPI, Request
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from airflow_provider_modelstudio.emulator import faults
from airflow_provider_modelstudio.emulator.admin import add_admin_routes
from airflow_provider_modelstudio.emulator.errors import ErrorAnswer, OAuthError
from airflow_provider_modelstudio.emulator.faults import FaultPlan
from airflow_provider_modelstudio.emulator.pages import add_page_routes
from airflow_provider_modelstudio.emulator.responses import TRANSPORT_KEY, DropConnection, json_response
from airflow_provider_modelstudio.emulator.routing import route_path, routing_order
from airflow_provider_modelstudio.emulator.state import EmulatorState
from airflow_provider_modelstudio.emulator.tokens import Caller
from airflow_provider_modelstudio.foundry.endpoints import ENDPOINTS, Endpoint

DROPPED = "dropped"
_NOBODY = Caller(user_id="", scopes=frozenset())

Handler = Callable[[Request, Caller], Awaitable[Response]]


class EmulatorApp:
    """The ASGI application: the FastAPI app, wrapped to expose uvicorn's transport to the routes.

    :param state: the state to serve.
    """

    def __init__(self, state: EmulatorState) -> None:
        self.state = state
        self._stopping = asyncio.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self.api = FastAPI(docs_url=None, redoc_url=None, openapi_url=None)
        self.api.add_exception_handler(StarletteHTTPException, _empty_answer)
        handlers: dict[str, Handler] = {
            "oauth2_token": self._oauth2_token,
            "launch_model_studio": self._launch,
            "get_model_studio": self._get_studio,
            "list_model_studio_runs": self._list_runs,
            "get_latest_config_version": self._get_latest_config_version,
            "get_config_version": self._get_config_version,
            "get_model_version": self._get_model_version,
            "get_build": self._get_build,
            "get_builds_batch": self._get_builds_batch,
            "cancel_build": self._cancel_build,
            "get_model": self._get_model,
            "list_model_versions": self._list_model_versions,
            "promote_model_version": self._promote_model_version,
            "get_experiment": self._get_experiment,
            "search_experiments": self._search_experiments,
            "list_live_deployments": self._list_live_deployments,
            "get_live_deployment": self._get_live_deployment,
            "start_live_deployment": self._start_live_deployment,
            "transform_json": self._transform_json,
            "get_dataset_branch": self._get_dataset_branch,
            "get_trainer": self._get_trainer,
            "list_config_versions": self._list_config_versions,
            "create_config_version": self._create_config_version,
            "get_dataset_transaction": self._get_dataset_transaction,
        }
        unserved = sorted(set(ENDPOINTS) - set(handlers))
        if unserved:
            raise RuntimeError(f"the emulator has no handler for the contract's endpoints {unserved}; add one each")
        add_admin_routes(self.api, state)
        add_page_routes(self.api, state)
        for endpoint in routing_order(ENDPOINTS.values()):
            route = self._route(endpoint, handlers[endpoint.name])
            self.api.add_api_route(route_path(endpoint), route, methods=[endpoint.method])

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            self._loop = asyncio.get_running_loop()
            scope[TRANSPORT_KEY] = getattr(getattr(send, "__self__", None), "transport", None)
        await self.api(scope, receive, send)

    def wake_sleepers(self) -> None:
        """End every latency and hang wait now (the server is stopping); callable from any thread."""
        loop = self._loop
        if loop is not None and not loop.is_closed():
            loop.call_soon_threadsafe(self._stopping.set)

    # The pipeline -----------------------------------------------------------------------------------------

    def _route(self, endpoint: Endpoint[Any], handler: Handler) -> Callable[[Request], Awaitable[Response]]:
        async def route(request: Request) -> Response:
            return await self._serve(request, endpoint, handler)

        route.__name__ = endpoint.name
        return route

    async def _serve(self, request: Request, endpoint: Endpoint[Any], handler: Handler) -> Response:
        plan = self.state.plan_faults(endpoint.name)
        admitted = self.state.admit_build_read() if endpoint.build_read else None
        response: Response
        if admitted is False:
            response = Response(status_code=429)
        else:
            try:
                response = await self._serve_with_faults(request, endpoint, handler, plan)
            finally:
                if admitted:
                    self.state.release_build_read()
        outcome = DROPPED if isinstance(response, DropConnection) else str(response.status_code)
        self.state.count_request(endpoint.name, outcome)
        return response

    async def _serve_with_faults(
        self, request: Request, endpoint: Endpoint[Any], handler: Handler, plan: FaultPlan
    ) -> Response:
        if plan.latency_seconds and not await self._sleep(plan.latency_seconds):
            return DropConnection()
        if plan.kind == faults.DROP:
            return DropConnection()
        if plan.kind == faults.HANG and not await self._sleep(plan.settings.hang_seconds):
            return DropConnection()
        if plan.kind in faults.ANSWERING_KINDS:
            fault = faults.answer(plan.kind, plan.settings)
            return Response(fault.body, fault.status, fault.headers, fault.media_type)
        response = await self._answer(request, endpoint, handler)
        if plan.kind == faults.DROP_AFTER_CREATE:
            return DropConnection()
        if plan.kind == faults.TRUNCATED_JSON:
            return Response(faults.truncate(bytes(response.body)), response.status_code, media_type=response.media_type)
        return response

    async def _answer(self, request: Request, endpoint: Endpoint[Any], handler: Handler) -> Response:
        try:
            caller = _NOBODY
            if endpoint.scope:
                caller = self.state.authenticate(request.headers.get("authorization"))
                if endpoint.scope not in caller.scopes:
                    raise ErrorAnswer("ApiUsageDenied", missingScope=endpoint.scope)
                if endpoint.preview and request.query_params.get("preview", "").lower() != "true":
                    raise ErrorAnswer("ApiFeaturePreviewUsageOnly")
            return await handler(request, caller)
        except ErrorAnswer as error:
            return json_response(error.status, error.envelope())
        except OAuthError as error:
            return json_response(error.status, error.body())

    async def _sleep(self, seconds: float) -> bool:
        """Wait ``seconds`` of real time; False when cut short because the server stops."""
        try:
            await asyncio.wait_for(self._stopping.wait(), timeout=seconds)
        except TimeoutError:
            return True
        return False

    # Handlers -----------------------------------------------------------------------------------------------

    async def _oauth2_token(self, request: Request, caller: Caller) -> Response:
        form = dict(parse_qsl((await request.body()).decode("utf-8", errors="replace")))
        basic = _basic_credentials(request.headers.get("authorization"))
        return json_response(200, self.state.issue_token(form, basic))

    async def _launch(self, request: Request, caller: Caller) -> Response:
        return json_response(200, self.state.launch(request.path_params["modelStudioRid"], caller))

    async def _get_studio(self, request: Request, caller: Caller) -> Response:
        return json_response(200, self.state.get_studio(request.path_params["modelStudioRid"]))

    async def _list_runs(self, request: Request, caller: Caller) -> Response:
        query = request.query_params
        answer = self.state.list_runs(
            request.path_params["modelStudioRid"],
            _integer("configVersion", query.get("configVersion")),
            _integer("pageSize", query.get("pageSize")),
            query.get("pageToken"),
        )
        return json_response(200, answer)

    async def _get_latest_config_version(self, request: Request, caller: Caller) -> Response:
        return json_response(200, self.state.get_config_version(request.path_params["modelStudioRid"], None))

    async def _get_config_version(self, request: Request, caller: Caller) -> Response:
        version = _integer("configVersion", request.path_params["configVersion"])
        return json_response(200, self.state.get_config_version(request.path_params["modelStudioRid"], version))

    async def _get_model_version(self, request: Request, caller: Caller) -> Response:
        path = request.path_params
        return json_response(200, self.state.get_model_version(path["modelRid"], path["modelVersionRid"]))

    async def _get_trainer(self, request: Request, caller: Caller) -> Response:
        return json_response(200, self.state.get_trainer(request.path_params["trainerId"]))

    async def _list_config_versions(self, request: Request, caller: Caller) -> Response:
        query = request.query_params
        answer = self.state.list_config_versions(
            request.path_params["modelStudioRid"], _integer("pageSize", query.get("pageSize")), query.get("pageToken")
        )
        return json_response(200, answer)

    async def _create_config_version(self, request: Request, caller: Caller) -> Response:
        body = await _json_body(request)
        return json_response(200, self.state.create_config_version(request.path_params["modelStudioRid"], body, caller))

    async def _get_dataset_branch(self, request: Request, caller: Caller) -> Response:
        path = request.path_params
        return json_response(200, self.state.get_dataset_branch(path["datasetRid"], path["branchName"]))

    async def _get_dataset_transaction(self, request: Request, caller: Caller) -> Response:
        path = request.path_params
        return json_response(200, self.state.get_dataset_transaction(path["datasetRid"], path["transactionRid"]))

    async def _get_build(self, request: Request, caller: Caller) -> Response:
        return json_response(200, self.state.get_build(request.path_params["buildRid"]))

    async def _get_builds_batch(self, request: Request, caller: Caller) -> Response:
        return json_response(200, self.state.get_builds(await _json_body(request)))

    async def _cancel_build(self, request: Request, caller: Caller) -> Response:
        self.state.cancel_build(request.path_params["buildRid"])
        return Response(status_code=204)

    async def _get_model(self, request: Request, caller: Caller) -> Response:
        return json_response(200, self.state.get_model(request.path_params["modelRid"]))

    async def _list_model_versions(self, request: Request, caller: Caller) -> Response:
        query = request.query_params
        answer = self.state.list_model_versions(
            request.path_params["modelRid"],
            query.get("branch"),
            _integer("pageSize", query.get("pageSize")),
            query.get("pageToken"),
        )
        return json_response(200, answer)

    async def _promote_model_version(self, request: Request, caller: Caller) -> Response:
        body = await _json_body(request)
        return json_response(200, self.state.promote_model_version(request.path_params["modelRid"], body))

    async def _get_experiment(self, request: Request, caller: Caller) -> Response:
        path = request.path_params
        return json_response(200, self.state.get_experiment(path["modelRid"], path["experimentRid"]))

    async def _search_experiments(self, request: Request, caller: Caller) -> Response:
        body = await _json_body(request)
        return json_response(200, self.state.search_experiments(request.path_params["modelRid"], body))

    async def _list_live_deployments(self, request: Request, caller: Caller) -> Response:
        query = request.query_params
        return json_response(200, self.state.list_live_deployments(query.get("modelRid"), query.get("branch")))

    async def _get_live_deployment(self, request: Request, caller: Caller) -> Response:
        return json_response(200, self.state.get_live_deployment(request.path_params["liveDeploymentRid"]))

    async def _start_live_deployment(self, request: Request, caller: Caller) -> Response:
        self.state.start_live_deployment(request.path_params["liveDeploymentRid"])
        return Response(status_code=204)

    async def _transform_json(self, request: Request, caller: Caller) -> Response:
        body = await _json_body(request)
        return json_response(200, self.state.transform_json(request.path_params["liveDeploymentRid"], body))


async def _empty_answer(request: Request, error: Exception) -> Response:
    """Unknown route or method: the status alone, with an empty body."""
    status = error.status_code if isinstance(error, StarletteHTTPException) else 500
    return Response(status_code=status)


async def _json_body(request: Request) -> object:
    """The request's JSON body; None when it is empty.

    :raises ErrorAnswer: 400 Default:InvalidArgument when it is not JSON.
    """
    raw = await request.body()
    try:
        return json.loads(raw) if raw.strip() else None
    except ValueError:
        raise ErrorAnswer("Default:InvalidArgument", parameterName="body", reason="not JSON") from None


def _integer(name: str, value: str | None) -> int | None:
    if value is None:
        return None
    try:
        return int(value)
    except ValueError:
        raise ErrorAnswer("Default:InvalidArgument", parameterName=name, parameterValue=value) from None


def _basic_credentials(authorization: str | None) -> tuple[str, str] | None:
    """Client id and secret from an HTTP Basic header (RFC 6749 section 2.3.1), if one was sent."""
    scheme, _, encoded = (authorization or "").partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        client_id, _, secret = base64.b64decode(encoded.strip()).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        raise OAuthError(401, "invalid_client", "malformed Basic credentials") from None
    return unquote_plus(client_id), unquote_plus(secret)
