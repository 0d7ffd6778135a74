"""The admin HTTP API under ``/_emulator/`` (no real Foundry uses that prefix).

It mirrors the in-process handle for clients in other processes: reset, replace the scenario, set and
clear faults, advance the clock, read counters, runs and builds, force a build status; add models,
versions, experiments and live deployments, read them back, force a deployment's status; add datasets and open,
commit or abort their transactions. It needs no token,
is never faulted or rate limited, and is not counted. Every request must carry the header
``X-Foundry-Emulator-Admin: 1`` and send any body as ``application/json`` (see :mod:`.admin_access`), or it
answers 403. Bad input answers 400 and an unknown build, model or deployment 404. Every error body is
``{"error": message}``.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import FastAPI, Request
from starlette.responses import Response

from airflow_provider_modelstudio.emulator.admin_access import ADMIN_PREFIX, refusal
from airflow_provider_modelstudio.emulator.errors import ErrorAnswer
from airflow_provider_modelstudio.emulator.ids import new_rid
from airflow_provider_modelstudio.emulator.model_settings import LiveDeploymentSettings, new_version_settings
from airflow_provider_modelstudio.emulator.parsing import coerce, parse_flat
from airflow_provider_modelstudio.emulator.responses import json_response
from airflow_provider_modelstudio.emulator.scenario import FaultSettings, Scenario
from airflow_provider_modelstudio.emulator.state import EmulatorState

_Action = Callable[[Request], Awaitable[Any]]


def add_admin_routes(api: FastAPI, state: EmulatorState) -> None:
    """Register the admin routes on ``api``.

    :param api: the FastAPI app.
    :param state: the state they control.
    """

    async def reset(request: Request) -> None:
        state.reset()

    async def put_scenario(request: Request) -> None:
        state.set_scenario(Scenario.from_dict(await _object(request)))

    async def set_faults(request: Request) -> None:
        endpoint = request.path_params["endpoint"]
        state.set_faults(endpoint, FaultSettings.from_dict(await _object(request), f"faults[{endpoint!r}]"))

    async def clear_faults(request: Request) -> None:
        state.clear_faults()

    async def advance(request: Request) -> dict[str, float]:
        seconds = (await _object(request)).get("seconds")
        if not isinstance(seconds, (int, float)) or isinstance(seconds, bool):
            raise ValueError('expected {"seconds": <number>}')
        return {"now": state.advance(float(seconds))}

    async def counters(request: Request) -> dict[str, Any]:
        return state.counters()

    async def runs(request: Request) -> list[dict[str, Any]]:
        return state.runs(request.query_params.get("studioRid"))

    async def builds(request: Request) -> dict[str, dict[str, Any]]:
        return state.builds()

    async def set_build_status(request: Request) -> None:
        status = (await _object(request)).get("status")
        if not isinstance(status, str):
            raise ValueError('expected {"status": "<status>"}')
        state.set_build_status(request.path_params["buildRid"], status)

    async def add_dataset(request: Request) -> dict[str, Any]:
        body = await _object(request)
        rid = coerce(str | None, body.get("rid"), "rid") or new_rid("foundry", "dataset")
        return {"rid": rid, **state.add_dataset(rid, coerce(str, body.get("branch", "master"), "branch"))}

    async def open_transaction(request: Request) -> dict[str, Any]:
        body = await _object(request)
        return state.open_transaction(
            request.path_params["datasetRid"],
            coerce(str, body.get("branch", "master"), "branch"),
            coerce(str, body.get("type", "APPEND"), "type"),
        )

    async def commit_transaction(request: Request) -> dict[str, Any]:
        path = request.path_params
        return state.close_transaction(path["datasetRid"], path["transactionRid"], commit=True)

    async def abort_transaction(request: Request) -> dict[str, Any]:
        path = request.path_params
        return state.close_transaction(path["datasetRid"], path["transactionRid"], commit=False)

    async def add_model(request: Request) -> dict[str, Any]:
        body = await _object(request)
        rid = coerce(str | None, body.get("rid"), "rid") or new_rid("models", "model")
        return state.add_model(rid, coerce(bool, body.get("promote_denied", False), "promote_denied"))

    async def add_model_version(request: Request) -> dict[str, Any]:
        model_rid = request.path_params["modelRid"]
        settings = new_version_settings(await _object(request), f"model version of {model_rid!r}")
        return state.add_model_version(model_rid, settings)

    async def model_versions(request: Request) -> list[dict[str, Any]]:
        return state.model_versions(request.path_params["modelRid"], request.query_params.get("branch"))

    async def add_experiment(request: Request) -> dict[str, Any]:
        body = await _object(request)
        metrics = coerce(dict[str, float], body.get("metrics", {}), "metrics")
        linked = coerce(str | None, body.get("linked_model_version"), "linked_model_version")
        return state.add_experiment(request.path_params["modelRid"], metrics, linked)

    async def experiments(request: Request) -> list[dict[str, Any]]:
        return state.experiments(request.path_params["modelRid"])

    async def add_live_deployment(request: Request) -> dict[str, Any]:
        body = await _object(request)
        rid = coerce(str | None, body.pop("rid", None), "rid") or new_rid("foundry-ml-live", "live-deployment")
        return state.add_live_deployment(rid, parse_flat(LiveDeploymentSettings, body, "live deployment"))

    async def live_deployments(request: Request) -> dict[str, dict[str, Any]]:
        return state.live_deployments()

    async def set_live_deployment_status(request: Request) -> None:
        body = await _object(request)
        state.set_live_deployment_status(
            request.path_params["liveDeploymentRid"],
            coerce(str, body.get("state"), "state"),
            coerce(bool, body.get("is_ready"), "is_ready"),
        )

    routes: list[tuple[str, str, _Action]] = [
        ("POST", "/reset", reset),
        ("PUT", "/scenario", put_scenario),
        ("POST", "/faults/{endpoint}", set_faults),
        ("DELETE", "/faults", clear_faults),
        ("POST", "/clock/advance", advance),
        ("GET", "/counters", counters),
        ("GET", "/runs", runs),
        ("GET", "/builds", builds),
        ("POST", "/builds/{buildRid}/status", set_build_status),
        ("POST", "/datasets", add_dataset),
        ("POST", "/datasets/{datasetRid}/transactions", open_transaction),
        ("POST", "/datasets/{datasetRid}/transactions/{transactionRid}/commit", commit_transaction),
        ("POST", "/datasets/{datasetRid}/transactions/{transactionRid}/abort", abort_transaction),
        ("POST", "/models", add_model),
        ("POST", "/models/{modelRid}/versions", add_model_version),
        ("GET", "/models/{modelRid}/versions", model_versions),
        ("POST", "/models/{modelRid}/experiments", add_experiment),
        ("GET", "/models/{modelRid}/experiments", experiments),
        ("POST", "/liveDeployments", add_live_deployment),
        ("GET", "/liveDeployments", live_deployments),
        ("POST", "/liveDeployments/{liveDeploymentRid}/status", set_live_deployment_status),
    ]
    for method, path, action in routes:
        api.add_api_route(ADMIN_PREFIX + path, _admin_route(action), methods=[method])


def _admin_route(action: _Action) -> Callable[[Request], Awaitable[Response]]:
    async def route(request: Request) -> Response:
        refused = refusal(request.headers, await request.body())
        if refused is not None:
            return json_response(403, {"error": refused})
        try:
            result = await action(request)
        except KeyError as error:
            return json_response(404, {"error": f"unknown: {error.args[0]}"})
        except ErrorAnswer as error:
            return json_response(error.status, {"error": f"{error.name}: {error.parameters}"})
        except ValueError as error:
            return json_response(400, {"error": str(error)})
        return Response(status_code=204) if result is None else json_response(200, result)

    route.__name__ = f"admin_{action.__name__}"
    return route


async def _object(request: Request) -> dict[str, Any]:
    body = json.loads(await request.body() or b"{}")
    if not isinstance(body, dict):
        raise ValueError("expected a JSON object")
    return body
