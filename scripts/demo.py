"""`make demo`: run the example DAG ``retrain_then_deploy`` against a local Foundry emulator.

Starts the emulator on a free loopback port, points a throw-away Airflow (``.airflow-demo/``, SQLite) at
it, runs ``airflow dags test retrain_then_deploy`` (deferred waits run their trigger inline), then reads
Airflow's own record of the run (the metadata database) and the emulator's state, and prints a short
summary: the training run, the quality gate's table, the promotion, what the live deployment serves now
and the smoke test's answer. Airflow's output goes to ``.airflow-demo/demo.log``; its tail is shown when
something went wrong. The emulator is always stopped.

    python scripts/demo.py                       # a better model: trained, gated, deployed, smoke-tested
    python scripts/demo.py --scenario worse      # a worse model: stopped at the gate, nothing deployed
    python scripts/demo.py --scenario rollback   # a model that breaks the deployment: rolled back
    python scripts/demo.py --scenario failure    # a training run that fails: nothing downstream runs
    python scripts/demo.py --scenario new-data   # a commit to the training data retrains (scripts/demo_new_data.py)

Exit status 0 when the DAG ended exactly the way the scenario expects, in Airflow's record and in the
emulator's state; 1 otherwise.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import json
import os
import queue
import re
import sqlite3
import subprocess
import sys
import textwrap
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import IO, Any

from airflow_provider_modelstudio.emulator import (
    ADMIN_HEADERS,
    DEMO_BREAKS_STUDIO,
    DEMO_DEPLOYMENT,
    DEMO_FAILS_STUDIO,
    DEMO_STUDIO,
    DEMO_WORSE_STUDIO,
)

REPO = Path(__file__).resolve().parents[1]
HOME = REPO / ".airflow-demo"
LOG = HOME / "demo.log"
DAG_ID = "retrain_then_deploy"
TRAIN, GATE, DEPLOY = "train", "gate", "deploy"
EMULATOR_BANNER = "Foundry emulator listening on "
EMULATOR_TOKEN = "emulator-token"
POLL_SECONDS = "1"  # the emulator's runs take 5 s and its deployments 3 s; real ones want the DAG's 30 s
START_TIMEOUT = 60.0
DAG_TEST_TIMEOUT = 240.0
TAIL_LINES = 30
# The line of a traceback that names the exception, e.g. "airflow.sdk.exceptions.AirflowFailException: ..."
EXCEPTION_LINE = re.compile(r"^(?:[A-Za-z_][\w.]*\.)?(?:AirflowFailException|\w+(?:Error|Exception)): (?P<message>.+)$")


@dataclass(frozen=True)
class Scenario:
    """One way the DAG can go: the studio it trains, and how every task and the DAG run must end.

    :param studio: the studio the DAG run trains (a DAG param).
    :param tasks: the final state of each task.
    :param story: what the demo shows, printed when the run went exactly that way.
    """

    studio: str
    tasks: dict[str, str]
    story: str

    @property
    def dag_state(self) -> str:
        return "success" if all(state == "success" for state in self.tasks.values()) else "failed"


SCENARIOS = {
    "success": Scenario(
        DEMO_STUDIO,
        {TRAIN: "success", GATE: "success", DEPLOY: "success"},
        "the DAG trained a better model version, let it through the gate, and the live deployment serves it.",
    ),
    "worse": Scenario(
        DEMO_WORSE_STUDIO,
        {TRAIN: "success", GATE: "failed", DEPLOY: "upstream_failed"},
        "the new model version is worse than the champion, so the gate stopped it; nothing was promoted and the "
        "live deployment still serves the champion.",
    ),
    "rollback": Scenario(
        DEMO_BREAKS_STUDIO,
        {TRAIN: "success", GATE: "success", DEPLOY: "failed"},
        "the new model version passed the gate but the live deployment FAILED with it; the deploy task promoted "
        "the previous version back, waited until it was served again, and failed saying so.",
    ),
    "failure": Scenario(
        DEMO_FAILS_STUDIO,
        {TRAIN: "failed", GATE: "upstream_failed", DEPLOY: "upstream_failed"},
        f"the training run ended FAILED, {TRAIN} failed with Foundry's verdict and a link to the build, and "
        "nothing downstream ran.",
    ),
}


class DemoError(Exception):
    """Something outside the DAG went wrong (the emulator, Airflow's database, a timeout)."""


def say(text: str = "") -> None:
    print(text, flush=True)


def field_line(label: str, value: object) -> None:
    say(f"  {label:<20} {value}")


def wrapped(text: str, indent: int = 4) -> str:
    pad = " " * indent
    return textwrap.fill(
        text, width=100, initial_indent=pad, subsequent_indent=pad, break_long_words=False, break_on_hyphens=False
    )


# The emulator ---------------------------------------------------------------------------------------------


@contextmanager
def emulator(log: IO[str]) -> Iterator[str]:
    """Start ``python -m airflow_provider_modelstudio.emulator --port 0``; yield its URL; always stop it."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "airflow_provider_modelstudio.emulator", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=log,
        stdin=subprocess.DEVNULL,
        text=True,
        cwd=REPO,
    )
    try:
        yield _emulator_url(proc, log)
    finally:
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def _emulator_url(proc: subprocess.Popen[str], log: IO[str]) -> str:
    assert proc.stdout is not None
    lines: queue.Queue[str] = queue.Queue()

    def pump(stream: IO[str]) -> None:  # keeps the pipe drained for as long as the emulator runs
        for line in stream:
            lines.put(line)
            log.write(f"[emulator] {line}")
        lines.put("")

    threading.Thread(target=pump, args=(proc.stdout,), daemon=True).start()
    try:
        first = lines.get(timeout=START_TIMEOUT)
    except queue.Empty:
        raise DemoError(f"the emulator printed nothing within {START_TIMEOUT:g} s") from None
    if not first.startswith(EMULATOR_BANNER):
        raise DemoError(f"the emulator did not start (exit status {proc.poll()}); first line: {first!r}")
    return first[len(EMULATOR_BANNER) :].strip()


def emulator_get(url: str, path: str) -> Any:
    request = urllib.request.Request(url + path, headers=dict(ADMIN_HEADERS))
    with urllib.request.urlopen(request, timeout=10) as answer:  # loopback only
        return json.load(answer)


# Airflow ------------------------------------------------------------------------------------------------


def airflow_env(emulator_url: str) -> dict[str, str]:
    """This process's environment without any Airflow setting of the user's, plus the demo's."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW")}
    connection = {"conn_type": "foundry", "host": emulator_url, "password": EMULATOR_TOKEN}
    env.update(
        AIRFLOW_HOME=str(HOME),
        AIRFLOW__CORE__DAGS_FOLDER=str(REPO / "example_dags"),
        AIRFLOW__CORE__LOAD_EXAMPLES="False",
        AIRFLOW_CONN_FOUNDRY_DEFAULT=json.dumps(connection),
        MODELSTUDIO_POLL_SECONDS=POLL_SECONDS,
    )
    return env


def run_airflow(args: list[str], env: dict[str, str], log: IO[str], timeout: float) -> int:
    log.write(f"\n$ airflow {' '.join(args)}\n")
    log.flush()
    try:
        return subprocess.run(
            [sys.executable, "-m", "airflow", *args],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            cwd=REPO,
            timeout=timeout,
            check=False,
        ).returncode
    except subprocess.TimeoutExpired:
        raise DemoError(f"`airflow {args[0]} {args[1]}` did not finish within {timeout:g} s") from None


def prepare_database(env: dict[str, str], log: IO[str]) -> str:
    """Migrate the demo's SQLite database unless it was already migrated by this Airflow version."""
    version = importlib.metadata.version("apache-airflow")
    stamp = HOME / ".migrated"
    if (HOME / "airflow.db").exists() and stamp.exists() and stamp.read_text().strip() == version:
        return "ready"
    started = time.monotonic()
    if run_airflow(["db", "migrate"], env, log, timeout=180) != 0:
        raise DemoError("`airflow db migrate` failed")
    stamp.write_text(version + "\n")
    return f"migrated for Airflow {version} in {time.monotonic() - started:.0f} s"


# What Airflow recorded ---------------------------------------------------------------------------------


@dataclass
class Record:
    """The demo's DAG run as Airflow's metadata database has it."""

    run_id: str
    state: str
    seconds: float | None
    tasks: dict[str, str]
    xcoms: dict[tuple[str, str], Any]

    def xcom(self, task_id: str, key: str = "return_value") -> Any:
        return self.xcoms.get((task_id, key))


def last_dag_run_id(db: Path) -> int:
    if not db.exists():
        return 0
    with sqlite3.connect(db) as conn:
        return int(conn.execute("SELECT coalesce(max(id), 0) FROM dag_run").fetchone()[0])


def _seconds(start: str | None, end: str | None) -> float | None:
    if not start or not end:
        return None
    return (datetime.fromisoformat(end) - datetime.fromisoformat(start)).total_seconds()


def read_record(db: Path, after_id: int) -> Record:
    with sqlite3.connect(db) as conn:
        row = conn.execute(
            "SELECT run_id, state, start_date, end_date FROM dag_run WHERE dag_id = ? AND id > ? "
            "ORDER BY id DESC LIMIT 1",
            (DAG_ID, after_id),
        ).fetchone()
        if row is None:
            raise DemoError("Airflow recorded no new run of the DAG")
        run_id, state, start, end = row
        tasks = dict(
            conn.execute(
                "SELECT task_id, coalesce(state, 'none') FROM task_instance WHERE dag_id = ? AND run_id = ? "
                "ORDER BY priority_weight DESC, task_id",
                (DAG_ID, run_id),
            ).fetchall()
        )
        xcoms = {
            (task_id, key): json.loads(value) if isinstance(value, str) else value
            for task_id, key, value in conn.execute(
                "SELECT task_id, key, value FROM xcom WHERE dag_id = ? AND run_id = ? AND map_index = -1",
                (DAG_ID, run_id),
            ).fetchall()
        }
    return Record(run_id, state, _seconds(start, end), tasks, xcoms)


def failure_message(log_path: Path) -> str | None:
    """The message of the last exception in Airflow's output (Airflow keeps no error text in its database)."""
    found = None
    for line in log_path.read_text(encoding="utf-8", errors="replace").splitlines():
        match = EXCEPTION_LINE.match(line.strip())
        if match:
            found = match["message"]
    return found


def tail(log_path: Path, lines: int = TAIL_LINES) -> str:
    text = log_path.read_text(encoding="utf-8", errors="replace").splitlines()
    return "\n".join(line[:300] for line in text[-lines:])


# What the emulator holds -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Serving:
    """What the live deployment serves, as the emulator has it."""

    model_rid: str | None
    version_rid: str | None
    state: str | None
    ready: bool

    def describe(self) -> str:
        return f"{self.version_rid or 'nothing'} ({self.state}, {'ready' if self.ready else 'not ready'})"


def serving(url: str) -> Serving:
    found = emulator_get(url, "/_emulator/liveDeployments").get(DEMO_DEPLOYMENT) or {}
    version = found.get("modelVersion") or {}
    status = found.get("status") or {}
    return Serving(
        version.get("modelRid"), version.get("modelVersionRid"), status.get("state"), bool(status.get("isReady"))
    )


def promoted_sources(url: str, model_rid: str | None) -> dict[str, str]:
    """``{version: the version it was promoted from}`` for the promoted copies in a model, per the emulator."""
    if model_rid is None:
        return {}
    sources: dict[str, str] = {}
    for version in emulator_get(url, f"/_emulator/models/{model_rid}/versions"):
        source = version.get("source") or {}
        if source.get("type") == "promoted":
            sources[version["rid"]] = str(source.get("previousModelVersionRid"))
    return sources


# The demo ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Outcome:
    """Everything the summary and the checks read: Airflow's record, and the emulator before and after."""

    scenario: Scenario
    record: Record
    before: Serving
    after: Serving
    copies: dict[str, str]
    message: str | None

    @property
    def new_version(self) -> str | None:
        rid = (self.record.xcom(TRAIN) or {}).get("model_version_rid")  # a failed task returns no result
        return rid if isinstance(rid, str) else None

    @property
    def gate_rows(self) -> list[dict[str, Any]] | None:
        rows = self.record.xcom(GATE, "gate")
        return rows if isinstance(rows, list) else None

    @property
    def deploy(self) -> dict[str, Any]:
        return self.record.xcom(DEPLOY) or self.record.xcom(DEPLOY, "deploy_result") or {}

    def what_is_served(self) -> str:
        """What the version served now is, in words."""
        served = self.after.version_rid
        if served == self.before.version_rid:
            return "unchanged: the version served before the run"
        source = self.copies.get(served or "")
        if source is not None and source == self.new_version:
            return "the promoted copy of the new model version"
        if source is not None and source == self.before.version_rid:
            return "a copy of the version served before the run (rolled back)"
        return "neither the new model version nor the one served before"


def show_training(outcome: Outcome, url: str) -> list[str]:
    """Print the training part; return the problems found with it."""
    problems = []
    record = outcome.record
    result = record.xcom(TRAIN) or {}
    run_id, build_rid = record.xcom(TRAIN, "run_id"), record.xcom(TRAIN, "build_rid")
    studio = outcome.scenario.studio
    field_line("Model Studio", studio)
    field_line("training run", run_id or "(none: the launch did not happen)")
    build_status = result.get("build_status")
    if build_status is None and build_rid:
        build = emulator_get(url, "/_emulator/builds").get(build_rid, {})
        build_status = f"{build.get('status')} (from the emulator: a failed task returns no result)"
    field_line("build status", build_status or "unknown")
    field_line("new model version", outcome.new_version or "none")
    if record.xcom(TRAIN, "build_url"):
        field_line("build link", record.xcom(TRAIN, "build_url"))
    if run_id:
        runs = emulator_get(url, f"/_emulator/runs?studioRid={studio}")
        emulated = next((r for r in runs if r.get("runId") == run_id), None)
        version = ((emulated or {}).get("resolvedOutputs") or {}).get("model", {}).get("modelVersionRid")
        if emulated is None:
            problems.append(f"the emulator has no run {run_id} of {studio}")
        elif version != record.xcom(TRAIN, "model_version_rid"):  # pushed at launch, also when the run fails
            problems.append(
                f"Airflow recorded model version {record.xcom(TRAIN, 'model_version_rid')}, the emulator {version}"
            )
        else:
            agrees = f"made model version {version}" if result else f"is {emulated.get('buildStatus')}"
            field_line("cross-check", f"the emulator's run {emulated['runId']} {agrees}")
    return problems


def gate_table(rows: list[dict[str, Any]]) -> list[str]:
    """The gate's rows as the gate logs them: a fixed-width table with a header."""
    header = ("METRIC", "CANDIDATE", "CHAMPION", "THRESHOLD", "VERDICT", "NOTE")
    cells = [header] + [
        (
            str(row["metric"]),
            format(row["candidate"], ".10g"),
            "-" if row["champion"] is None else format(row["champion"], ".10g"),
            str(row["threshold"]),
            str(row["verdict"]),
            str(row.get("note") or ""),
        )
        for row in rows
    ]
    widths = [max(len(line[i]) for line in cells) for i in range(len(header))]
    return ["  ".join(cell.ljust(w) for cell, w in zip(line, widths, strict=True)).rstrip() for line in cells]


def show_gate(outcome: Outcome) -> None:
    rows = outcome.gate_rows
    say()
    if rows is None:
        field_line("quality gate", "did not run")
        return
    passed = all(row["verdict"] == "PASS" for row in rows)
    field_line("quality gate", "passed" if passed else "stopped the new model version")
    field_line("champion", f"{outcome.before.version_rid} (served before the run)")
    for line in gate_table(rows):
        say(f"    {line}")


def show_deploy(outcome: Outcome) -> None:
    deploy = outcome.deploy
    say()
    if not deploy:
        field_line("deploy", "did not run")
    else:
        promoted = f"{deploy['promoted_version_rid']} (on {deploy['model_rid']}, branch {deploy['branch']})"
        field_line("promoted version", promoted)
        field_line("previous version", deploy["previous_version_rid"])
        if deploy["rolled_back"]:
            field_line("rolled back to", f"{deploy['served_version_rid']} (a copy of the previous version)")
    field_line("live deployment", f"{DEMO_DEPLOYMENT} (as the emulator has it)")
    field_line("  before the run", outcome.before.describe())
    field_line("  now", outcome.after.describe())
    field_line("", outcome.what_is_served())
    if deploy.get("smoke_test_output") is not None:
        answer = json.dumps(deploy["smoke_test_output"])
        field_line("smoke test answer", f"{answer} in {deploy['smoke_test_latency_ms']:.0f} ms")


def check_outcome(outcome: Outcome, name: str) -> list[str]:
    """What differs from the scenario, in Airflow's record or in the emulator's state (empty: nothing)."""
    scenario, record = outcome.scenario, outcome.record
    problems = []
    if record.state != scenario.dag_state:
        problems.append(f"the DAG run ended {record.state}, but this scenario expects {scenario.dag_state}")
    wrong = {task: state for task, state in record.tasks.items() if scenario.tasks.get(task) != state}
    if wrong or set(record.tasks) != set(scenario.tasks):
        problems.append(f"the tasks ended {record.tasks}, but this scenario expects {scenario.tasks}")
    expected_message = EXPECTED_MESSAGES.get(name)
    if expected_message and expected_message not in (outcome.message or ""):
        problems.append(f"the failure message does not say {expected_message!r}: {outcome.message!r}")
    if scenario.tasks[TRAIN] == "success" and not str(outcome.new_version or "").startswith("ri.models."):
        problems.append(f"{TRAIN} returned no model version RID")
    return problems + CHECKS[name](outcome)


def _deployed(outcome: Outcome) -> list[str]:
    problems = []
    deploy, after = outcome.deploy, outcome.after
    if (outcome.record.xcom(GATE) or {}).get("passed") is not True:
        problems.append("the gate did not record a pass")
    if deploy.get("candidate_version_rid") != outcome.new_version or deploy.get("rolled_back") is not False:
        problems.append(f"{DEPLOY} did not deploy the new model version: {deploy}")
    if not isinstance((deploy.get("smoke_test_output") or {}).get("prediction"), int | float):
        problems.append(f"the smoke test answered no prediction: {deploy.get('smoke_test_output')}")
    if (after.version_rid, after.state, after.ready) != (deploy.get("promoted_version_rid"), "ACTIVE", True):
        problems.append(f"the emulator's deployment serves {after.describe()}, not {DEPLOY}'s promoted version")
    if outcome.copies.get(after.version_rid or "") != outcome.new_version:
        problems.append(f"the emulator's deployment serves {after.version_rid}, not a copy of the new version")
    return problems


def _untouched(outcome: Outcome) -> list[str]:
    problems = []
    if outcome.after != outcome.before:
        problems.append(f"the deployment changed: {outcome.before.describe()} before, {outcome.after.describe()} now")
    if outcome.new_version in outcome.copies.values():
        problems.append(f"the new model version {outcome.new_version} was promoted")
    return problems


def _stopped_at_the_gate(outcome: Outcome) -> list[str]:
    rows = outcome.gate_rows or []
    lost = [row for row in rows if row["check"] == "champion" and row["verdict"] == "FAIL"]
    problems = [] if lost else [f"no comparison with the champion failed in the gate's table: {rows}"]
    return problems + _untouched(outcome)


def _rolled_back(outcome: Outcome) -> list[str]:
    problems = []
    deploy, before, after = outcome.deploy, outcome.before, outcome.after
    if deploy.get("rolled_back") is not True or deploy.get("previous_version_rid") != before.version_rid:
        problems.append(f"{DEPLOY} recorded no rollback to {before.version_rid}: {deploy}")
    if outcome.copies.get(deploy.get("promoted_version_rid") or "") != outcome.new_version:
        problems.append("the new model version was never promoted, so there was nothing to roll back")
    if (after.state, after.ready) != ("ACTIVE", True) or outcome.copies.get(
        after.version_rid or ""
    ) != before.version_rid:
        problems.append(f"the emulator's deployment serves {after.describe()}, not a copy of {before.version_rid}")
    if deploy.get("served_version_rid") != after.version_rid:
        problems.append(f"{DEPLOY} says {deploy.get('served_version_rid')} serves, the emulator {after.version_rid}")
    return problems


CHECKS: dict[str, Callable[[Outcome], list[str]]] = {
    "success": _deployed,
    "worse": _stopped_at_the_gate,
    "rollback": _rolled_back,
    "failure": _untouched,
}
EXPECTED_MESSAGES = {
    "worse": "The gate stopped",
    "rollback": "Rolled back: it serves",
    "failure": "ended FAILED",
}


def run_dag(scenario: Scenario, log: IO[str]) -> tuple[Outcome, int, list[str]]:
    """Start the emulator, run the DAG for the scenario, and gather what Airflow and the emulator hold."""
    with emulator(log) as url:
        field_line("Foundry emulator", url)
        env = airflow_env(url)
        field_line("Airflow database", prepare_database(env, log))
        before_id = last_dag_run_id(HOME / "airflow.db")
        before = serving(url)
        args = ["dags", "test", DAG_ID]
        if scenario.studio != DEMO_STUDIO:  # the DAG's default studio; its default live deployment is the demo's
            args += ["-c", json.dumps({"model_studio_rid": scenario.studio})]
        say(f"  running              airflow {' '.join(args[:3])}" + (f" -c '{args[4]}'" if len(args) > 3 else ""))
        exit_status = run_airflow(args, env, log, timeout=DAG_TEST_TIMEOUT)
        log.flush()
        record = read_record(HOME / "airflow.db", before_id)
        after = serving(url)
        message = failure_message(LOG) if scenario.dag_state == "failed" else None
        outcome = Outcome(scenario, record, before, after, promoted_sources(url, after.model_rid), message)
        say()
        field_line("DAG run", record.run_id)
        seconds = f" after {record.seconds:.1f} s" if record.seconds is not None else ""
        field_line("state", f"{record.state}{seconds}")
        for task_id, state in record.tasks.items():
            field_line(f"  {task_id}", state)
        problems = show_training(outcome, url)
    return outcome, exit_status, problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scenario", choices=[*SCENARIOS, "new-data"], default="success", help="default: %(default)s")
    name = parser.parse_args(argv).scenario
    if name == "new-data":
        import demo_new_data

        return demo_new_data.main()
    scenario = SCENARIOS[name]
    HOME.mkdir(exist_ok=True)
    started = time.monotonic()
    say(f"Model Studio demo ({name}): DAG {DAG_ID} on Airflow {importlib.metadata.version('apache-airflow')}")
    say(f"  against a local Foundry emulator; Airflow's output goes to {LOG.relative_to(REPO)}")
    with LOG.open("w", encoding="utf-8") as log:
        try:
            outcome, exit_status, problems = run_dag(scenario, log)
        except DemoError as exc:
            log.flush()
            say(f"\nThe demo could not run: {exc}.\nLast lines of {LOG.relative_to(REPO)}:\n{tail(LOG)}")
            return 1
        except KeyboardInterrupt:
            say("\nInterrupted; the emulator was stopped.")
            return 130
    show_gate(outcome)
    show_deploy(outcome)
    failed = next((task for task, state in scenario.tasks.items() if state == "failed"), None)
    if failed is not None:
        say(f"\n  {failed} failed with:\n{wrapped(outcome.message or '(no message found in the log)')}")
    problems += check_outcome(outcome, name)
    if scenario.dag_state == "success" and exit_status != 0 and not problems:
        problems.append(f"`airflow dags test` exited with status {exit_status}")
    elapsed = time.monotonic() - started
    if problems:
        say("\nDemo FAILED:\n" + "\n".join(f"  - {p}" for p in problems))
        say(f"\nLast lines of {LOG.relative_to(REPO)}:\n{tail(LOG)}")
        return 1
    say(f"\n{wrapped(f'Demo succeeded in {elapsed:.0f} s: {scenario.story}', indent=0)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
