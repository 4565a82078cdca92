"""Predicted exposure equals what ``systemd-analyze security`` prints on the guest.

The cases are every shipped catalog entry alone (with what it requires) and
every phase alone and cumulated, each composed with the unit's settings as
``apply`` composes it. The prediction is made from nginx's own properties
before any drop-in. Each case is loaded into its own copy of the unit (see
``unit_copies``: one reload, nothing started; a score needs no restart), and
the copy's ``systemctl show`` and ``systemd-analyze security`` are compared
with the prediction: the graded properties, every check's exposure, and the
overall score. A copy without a drop-in must score as nginx itself does, and
the largest case is also applied to nginx itself. Both unit flavours.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping

import pytest

from bisect_tui.core.catalog import PHASES, load_catalog
from bisect_tui.core.composition_unit import parse_systemctl_cat
from bisect_tui.core.dropin import DROPIN_NAME, dropin_assignments
from bisect_tui.core.scoring import Exposure, exposure
from bisect_tui.core.scoring_predict import predict_properties
from bisect_tui.core.scoring_state import STATE_KEYS
from bisect_tui.core.scoring_tables import HostTables
from bisect_tui.core.scoring_text import (
    SecurityReport,
    parse_security_output,
    parse_show_output,
)
from bisect_tui.core.selection import resolve_selection
from bisect_tui.host.apply import plan_trial
from bisect_tui.host.readback_rules import seccomp_name
from bisect_tui.host.readback_values import addresses
from bisect_tui.testbed import guest
from bisect_tui.testbed.state import GuestRecord
from tests.integration.unit_copies import (
    COPY_PREFIX,
    UNIT,
    UNIT_DIR,
    copy_name,
    run_script,
    unit_copies,
)

pytestmark = pytest.mark.integration

MARK = "----- harden-bisect security -----"
UNIT_MARK = "===== harden-bisect unit "
BASELINE = "unit-as-is"


def composed_cases(record: GuestRecord) -> dict[str, str | None]:
    """Case name to the drop-in ``apply`` would write (``None``: no drop-in)."""
    catalog = load_catalog()
    unit_files = parse_systemctl_cat(guest.sudo(record, "systemctl", "cat", UNIT))
    selections: dict[str, list[str]] = {e.id: [e.id] for e in catalog.entries}
    for index, phase in enumerate(PHASES):
        selections[f"phase-{phase}"] = [e.id for e in catalog.in_phases([phase])]
        if index:
            upto = PHASES[: index + 1]
            ids = [e.id for e in catalog.in_phases(upto)]
            selections["phases-" + "-".join(upto)] = ids
    cases: dict[str, str | None] = {BASELINE: None}
    for name, ids in selections.items():
        entries = resolve_selection(catalog, (), ids)
        cases[name] = plan_trial(entries, UNIT, unit_files).composition.text
    return cases


def measure_script(units: list[str]) -> str:
    """Print each unit's properties and security report, between markers."""
    lines = []
    for unit in units:
        lines.append(f"echo '{UNIT_MARK}{unit}'; systemctl show --no-pager {unit}")
        lines.append(f"echo '{MARK}'; systemd-analyze security --no-pager {unit}")
    return "\n".join(lines) + "\n"


def parse_measurements(text: str) -> dict[str, tuple[dict[str, str], SecurityReport]]:
    """Split :func:`measure_script` output into properties and report per unit."""
    result = {}
    for block in text.split(UNIT_MARK)[1:]:
        unit, _, rest = block.partition("\n")
        show, _, report = rest.partition(MARK + "\n")
        result[unit] = (parse_show_output(show), parse_security_output(report))
    return result


def comparable(properties: Mapping[str, str]) -> dict[str, object]:
    """The graded properties, with systemd's printing choices folded away.

    List order (hash order in systemd) is ignored; pseudo system calls compare
    by libseccomp's number (two may share one); address prefixes that another
    covers are dropped (systemd drops them once the unit's cgroup is set up);
    a copy's dynamic user, named after the copy, counts as nginx's.
    """
    result: dict[str, object] = {}
    for key, value in properties.items():
        if key not in STATE_KEYS:
            continue
        words = frozenset(value.replace("\n", " ").split(" "))
        if key == "SystemCallFilter":
            inverted = value.startswith("~")
            words = frozenset(seccomp_name(w.lstrip("~")) for w in words)
            words |= {"~"} if inverted else set()
        elif key.startswith("IPAddress"):
            words = addresses(words)
        elif key in ("User", "Group") and value.startswith(COPY_PREFIX):
            words = frozenset({UNIT.removesuffix(".service")})
        result[key] = words
    return result


def differences(predicted: Exposure, report: SecurityReport) -> list[str]:
    """Checks whose predicted exposure differs from the printed one."""
    lines = []
    for row in report.checks:
        check = predicted.check(row.name)
        if check.shown != row.shown or check.applicable != (row.passed is not None):
            lines.append(f"{row.name}: predicted {check.shown}, printed {row.shown}")
    return lines


def compare(
    before: Mapping[str, str],
    dropin: str | None,
    shown: Mapping[str, str],
    report: SecurityReport,
    tables: HostTables,
) -> tuple[list[str], int]:
    """What differs between prediction and guest, and the score delta in tenths."""
    assignments = dropin_assignments(dropin) if dropin is not None else []
    properties = predict_properties(before, assignments, tables)
    predicted = exposure(properties, tables)
    problems = []
    wanted, printed = comparable(properties), comparable(shown)
    for key in sorted(set(wanted) | set(printed)):
        if wanted.get(key) != printed.get(key):
            problems.append(
                f"{key}: predicted {wanted.get(key)}, shown {printed.get(key)}"
            )
    problems += differences(predicted, report)
    if (predicted.level, predicted.label) != (report.level, report.label):
        problems.append(
            f"overall: predicted {predicted.level / 10} {predicted.label}, "
            f"printed {report.score} {report.label}"
        )
    return problems, abs(predicted.level - report.level)


def test_prediction_matches_the_guest(
    flavoured_testbed: GuestRecord,
    pristine_unit: GuestRecord,
    record_property: Callable[[str, object], None],
) -> None:
    """Every entry alone and every phase: properties, checks and score match."""
    record = pristine_unit
    started = time.monotonic()
    tables = HostTables.from_text(
        guest.sudo(record, "systemd-analyze", "syscall-filter", "--no-pager"),
        guest.sudo(record, "systemd-analyze", "capability", "--no-pager"),
    )
    cases = composed_cases(record)
    copies = {copy_name(i): name for i, name in enumerate(cases)}
    with unit_copies(record, {unit: cases[name] for unit, name in copies.items()}):
        measured = parse_measurements(
            run_script(record, measure_script([UNIT, *copies]))
        )
    before, nginx_report = measured[UNIT]

    # The largest case on nginx itself: its drop-in, a reload, no restart.
    largest = "phases-" + "-".join(PHASES)
    text = str(cases[largest]).rstrip("\n")
    path = f"{UNIT_DIR}/{UNIT}.d/{DROPIN_NAME}"
    applied = run_script(
        record,
        f"mkdir -p {UNIT_DIR}/{UNIT}.d\ncat > {path} <<'HB_END'\n{text}\nHB_END\n"
        f"systemctl daemon-reload\n{measure_script([UNIT])}"
        f"rm -rf {UNIT_DIR}/{UNIT}.d\nsystemctl daemon-reload\n",
    )
    seconds = time.monotonic() - started

    failures: dict[str, list[str]] = {}
    deltas: dict[str, int] = {}
    for unit, name in copies.items():
        shown, report = measured[unit]
        problems, deltas[name] = compare(before, cases[name], shown, report, tables)
        if problems:
            failures[name] = problems
    nginx_shown, nginx_applied = parse_measurements(applied)[UNIT]
    problems, deltas["nginx: " + largest] = compare(
        before, cases[largest], nginx_shown, nginx_applied, tables
    )
    if problems:
        failures["nginx: " + largest] = problems

    assert failures == {}, f"{record.flavour}: {failures}"
    assert measured[copy_name(0)][1].level == nginx_report.level
    assert len(cases) > 50
    record_property("cases", len(cases))
    record_property("max_score_delta", max(deltas.values()) / 10)
    record_property("score_seconds", round(seconds, 1))
    scores = {name: measured[u][1].score for u, name in copies.items()}
    print(
        f"{record.flavour}: {len(cases)} cases in {seconds:.1f} s, largest "
        f"score delta {max(deltas.values()) / 10:.1f}; unit {nginx_report.score}, "
        f"phases: "
        + ", ".join(f"{n} {s}" for n, s in scores.items() if n.startswith("phase"))
    )
