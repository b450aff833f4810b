"""The conformance report: family x verdict per candidate, worst error/tolerance, first failures.

Collected from test reports (so it works under pytest-xdist, where reports travel to the
controller), printed as a terminal table, and written as JSON + Markdown with --optim-report.
Files are written atomically: a temporary file in the same folder, then os.replace.
"""

from __future__ import annotations

import json
import platform
from collections import defaultdict
from dataclasses import asdict, is_dataclass
from pathlib import Path

import pytest

from pytest_optim import atomic


def result_dict(result) -> dict:
    return asdict(result) if is_dataclass(result) else dict(result)


def _candidate_of(report) -> str | None:
    for name, value in report.user_properties:
        if name == "optim_candidate":
            return value
    return None


class ReportPlugin:
    def __init__(self, config: pytest.Config):
        self.config = config
        # candidate -> capability -> {"status": ..., "reason": ...}; candidate -> notes
        self.capabilities: dict[str, dict[str, dict]] = defaultdict(dict)
        self.notes: dict[str, list[str]] = defaultdict(list)
        # (candidate, family) -> {"passed": n, "failed": n, "n/a": n, "worst": x, "failures": [...]}
        self.rows: dict[tuple[str, str], dict] = defaultdict(
            lambda: {"passed": 0, "failed": 0, "n/a": 0, "worst_ratio": None, "failures": [], "checks": []}
        )

    # every check test carries its candidate and family in user_properties (set at setup)
    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_setup(self, item: pytest.Item) -> None:
        callspec = getattr(item, "callspec", None)
        if callspec is None or "optim_candidate" not in callspec.params:
            return
        marker = item.get_closest_marker("optim_family")
        family = marker.args[0] if marker else item.module.__name__.rsplit(".", 1)[-1].removeprefix("test_")
        item.user_properties.append(("optim_candidate", callspec.params["optim_candidate"].label))
        item.user_properties.append(("optim_family", family))
        capability = item.get_closest_marker("optim_capability")
        if capability is not None:
            item.user_properties.append(("optim_capability", capability.args[0]))

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        props = dict((k, v) for k, v in report.user_properties
                     if k in ("optim_candidate", "optim_family", "optim_capability"))
        if "optim_candidate" not in props:
            return
        if report.when == "call" or (report.when == "setup" and not report.passed):
            row = self.rows[(props["optim_candidate"], props["optim_family"])]
            test = report.nodeid.split("::", 1)[-1]
            if report.passed:
                row["passed"] += 1
                verdict = "passed"
            elif report.skipped:
                row["n/a"] += 1
                verdict = "n/a"
            else:
                row["failed"] += 1
                verdict = "failed"
                message = _longrepr_message(report)
                row["failures"].append({"test": test, "message": message})
            check = {"test": test, "verdict": verdict}
            if "optim_capability" in props:
                self._capability(props["optim_candidate"], props["optim_capability"], verdict, report)
            for name, value in report.user_properties:
                if name == "optim_result":
                    if value.get("extra", {}).get("note"):
                        self.notes[props["optim_candidate"]].append(f"{test}: {value['extra']['note']}")
                    check["result"] = value  # what the check measured (worst ratio, detail, figures)
                    if value.get("worst_ratio") is not None:
                        w = row["worst_ratio"]
                        row["worst_ratio"] = value["worst_ratio"] if w is None else max(w, value["worst_ratio"])
            row["checks"].append(check)

    # a capability's status over all its checks: the worst one counts
    _RANK = {"supported": 0, "not supported": 1, "failed": 2}

    def _capability(self, cand: str, capability: str, verdict: str, report) -> None:
        message = _longrepr_message(report) if not report.passed else ""
        if verdict == "passed":
            status, reason = "supported", ""
        elif verdict == "n/a" and "not supported:" in message:
            status, reason = "not supported", message.split("not supported:", 1)[1].strip()
            reason = reason.removeprefix(f"{capability}:").strip()
        elif verdict == "failed" and "is required (--optim-require) but not supported" in message:
            status, reason = "not supported", "required: " + message.splitlines()[-1].strip()
        elif verdict == "failed":
            status, reason = "failed", "accepted, but computed the wrong numbers"
        else:
            return  # n/a for another reason (e.g. a ready-made transform): says nothing of the capability
        known = self.capabilities[cand].get(capability)
        if known is None or self._RANK[status] > self._RANK[known["status"]]:
            self.capabilities[cand][capability] = {"status": status, "reason": reason}

    def summary(self) -> dict:
        candidates: dict[str, dict] = {}
        for (cand, family), row in sorted(self.rows.items()):
            entry = candidates.setdefault(cand, {"families": {}, "passed": 0, "failed": 0, "n/a": 0})
            entry["families"][family] = row
            for k in ("passed", "failed", "n/a"):
                entry[k] += row[k]
        for cand, entry in candidates.items():
            from pytest_optim.conformance.capabilities import NAMES

            caps = self.capabilities.get(cand, {})
            entry["capabilities"] = {name: caps[name] for name in NAMES if name in caps}
            entry["notes"] = list(self.notes.get(cand, []))
        return candidates

    def pytest_terminal_summary(self, terminalreporter, exitstatus, config) -> None:
        data = self.summary()
        tr = terminalreporter
        path = config.getoption("optim_report")
        interrupted = exitstatus == pytest.ExitCode.INTERRUPTED
        if path and interrupted:
            tr.write_line(f"optim report: run interrupted; {path} left as it was", yellow=True)
        if not data:
            return
        tr.section("pytest-optim conformance")
        for cand, entry in data.items():
            verdict = "FAIL" if entry["failed"] else "PASS"
            tr.write_line(f"{cand}: {verdict} ({entry['passed']} passed, {entry['failed']} failed, {entry['n/a']} n/a)")
            tr.write_line(f"  {'family':<16}{'passed':>8}{'failed':>8}{'n/a':>6}  worst err/tol")
            for family, row in entry["families"].items():
                worst = "-" if row["worst_ratio"] is None else f"{row['worst_ratio']:.3g}"
                tr.write_line(f"  {family:<16}{row['passed']:>8}{row['failed']:>8}{row['n/a']:>6}  {worst}")
            caps = entry.get("capabilities", {})
            if caps:
                tr.write_line("  capabilities: " + ", ".join(f"{k}: {v['status']}" for k, v in caps.items()))
                for k, v in caps.items():
                    if v["status"] != "supported":
                        tr.write_line(f"    {k}: {v['reason']}")
            for note in entry.get("notes", []):
                tr.write_line(f"  note: {note}")
            for family, row in entry["families"].items():
                for failure in row["failures"][:3]:
                    first = failure["message"].strip().splitlines()
                    tr.write_line(f"  FAILED {failure['test']}: " + " | ".join(s.strip() for s in first[:4]))
        if path and not interrupted:
            try:
                written = write_report(path, data, config)
                tr.write_line(f"optim report: {', '.join(str(p) for p in written)}")
            except OSError as exc:
                tr.write_line(f"optim report: could not write {path}: {exc}", red=True)


def _longrepr_message(report) -> str:
    """The one message a person needs: the check's own text, or the exception line (e.g. a timeout)."""
    longrepr = report.longrepr
    if longrepr is None:
        return ""
    if isinstance(longrepr, tuple) and len(longrepr) == 3:  # a skip: (path, line, "Skipped: reason")
        return str(longrepr[2]).removeprefix("Skipped: ").strip()
    crash = getattr(longrepr, "reprcrash", None)
    text = crash.message if crash is not None else str(longrepr)
    for prefix in ("Failed: ", "AssertionError: "):
        text = text.removeprefix(prefix)
    if "Timeout" in text and "Failed" not in text[:10]:
        text = f"{text.strip()}: the candidate did not finish this check in time (--optim-timeout)"
    return text.strip()


def report_paths(path: str) -> tuple[Path, Path]:
    p = Path(path)
    base = p.with_suffix("") if p.suffix in (".json", ".md") else p
    return base.with_name(base.name + ".json"), base.with_name(base.name + ".md")


def environment() -> dict:
    env = {"python": platform.python_version(), "platform": platform.platform()}
    try:
        import jax
        import optax

        env.update(
            jax=jax.__version__, optax=optax.__version__, backend=jax.default_backend(),
            devices=[str(d) for d in jax.devices()], x64=bool(jax.config.jax_enable_x64),
        )
    except Exception as exc:  # noqa: BLE001 - the report is still written
        env["jax_error"] = str(exc)
    return env


def write_report(path: str, data: dict, config: pytest.Config) -> list[Path]:
    json_path, md_path = report_paths(path)
    doc = {
        "tool": "pytest-optim",
        "optim": config.getoption("optim") or config.getini("optim"),
        "reference": config.getoption("optim_reference"),
        "seed": config.getoption("optim_seed"),
        "environment": environment(),
        "candidates": data,
    }
    atomic.write_text(json_path, json.dumps(doc, indent=2, default=str))
    atomic.write_text(md_path, markdown(doc))
    return [json_path, md_path]


def markdown(doc: dict) -> str:
    env = doc["environment"]
    lines = [
        "# pytest-optim conformance report",
        "",
        f"jax {env.get('jax')} on {env.get('backend')} ({', '.join(env.get('devices', []))}), "
        f"optax {env.get('optax')}, x64 {'on' if env.get('x64') else 'off'}, seed {doc['seed']}",
        "",
    ]
    for cand, entry in doc["candidates"].items():
        verdict = "FAIL" if entry["failed"] else "PASS"
        lines += [f"## {cand}: {verdict}", "", "| family | passed | failed | n/a | worst err/tol |", "|---|---:|---:|---:|---:|"]
        for family, row in entry["families"].items():
            worst = "-" if row["worst_ratio"] is None else f"{row['worst_ratio']:.3g}"
            lines.append(f"| {family} | {row['passed']} | {row['failed']} | {row['n/a']} | {worst} |")
        caps = entry.get("capabilities", {})
        if caps:
            lines += ["", "| capability | status | reason |", "|---|---|---|"]
            for k, v in caps.items():
                reason = v["reason"].replace("|", "\\|").replace("\n", " ")
                lines.append(f"| {k} | {v['status']} | {reason} |")
        if entry.get("notes"):
            lines += ["", "Notes:", ""] + [f"- {n}" for n in entry["notes"]]
        failures = [(f, x) for f, row in entry["families"].items() for x in row["failures"]]
        if failures:
            lines += ["", "### Failures", ""]
            for family, x in failures:
                msg = x["message"].replace("\n", "<br>")
                lines.append(f"- **{family}** `{x['test']}`: {msg}")
        lines.append("")
    return "\n".join(lines)
