"""HTTP expectations and the Prometheus text format."""

from __future__ import annotations

import math

from bisect_tui.core.checklist import HttpSpec
from bisect_tui.core.checklist_expect import (
    Sample,
    judge_http,
    parse_sample,
    parse_samples,
    quote_body,
)

EXPORTER_DOWN = b"""\
# HELP nginx_up Status of the last metric scrape
# TYPE nginx_up gauge
nginx_up 0
# HELP nginxexporter_build_info Exporter build information
nginxexporter_build_info{commit="",date="",version="0.11.0"} 1
"""

EXPORTER_UP = EXPORTER_DOWN.replace(b"nginx_up 0", b"nginx_up 1") + (
    b'nginx_http_requests_total{host="a b",code="200"} 12 1700000000000\n'
    b"nginx_connections_active 1.5e+00\n"
)


def test_sample_lines() -> None:
    """Names, labels (sorted, with spaces and escapes), values, timestamps."""
    assert parse_sample("nginx_up 1") == Sample("nginx_up", (), 1.0)
    labelled = parse_sample('m{b="x y",a="q\\"z"} 2 1700000000')
    assert labelled == Sample("m", (("a", 'q\\"z'), ("b", "x y")), 2.0)
    assert parse_sample("# TYPE nginx_up gauge") is None
    assert parse_sample("") is None
    assert parse_sample("nginx_up") is None
    assert parse_sample("nginx_up one") is None
    assert parse_sample("m{a=unquoted} 1") is None
    nan = parse_sample("m NaN")
    assert nan is not None and math.isnan(nan.value)


def test_samples_of_an_exposition() -> None:
    """Every sample of the exporter's answer is read, comments skipped."""
    names = [s.name for s in parse_samples(EXPORTER_UP.decode())]
    assert names == [
        "nginx_up",
        "nginxexporter_build_info",
        "nginx_http_requests_total",
        "nginx_connections_active",
    ]


def test_exporter_answering_200_with_nginx_down_fails() -> None:
    """A 200 from the exporter is not enough: nginx_up must be 1."""
    spec = HttpSpec("http://h/metrics", expect_samples=("nginx_up 1",))
    assert judge_http(spec, 200, EXPORTER_UP) == ("good", [])
    verdict, problems = judge_http(spec, 200, EXPORTER_DOWN)
    assert verdict == "bad"
    assert problems == ["expected sample 'nginx_up 1', found nginx_up = 0"]


def test_sample_with_labels_matches_a_superset() -> None:
    """An expected sample's labels must be present; others may be too."""
    spec = HttpSpec("http://h/", expect_samples=("nginx_http_requests_total 12",))
    assert judge_http(spec, 200, EXPORTER_UP)[0] == "good"
    spec = HttpSpec(
        "http://h/", expect_samples=('nginx_http_requests_total{code="500"} 12',)
    )
    assert judge_http(spec, 200, EXPORTER_UP)[0] == "bad"
    spec = HttpSpec("http://h/", expect_samples=("absent_metric 1",))
    assert judge_http(spec, 200, EXPORTER_UP)[1] == [
        "no sample absent_metric in the body"
    ]


def test_status_prefix_pattern_and_json() -> None:
    """Each expectation is judged, and each unmet one is named."""
    spec = HttpSpec(
        "http://h/",
        expect_status=200,
        expect_prefix="#EXTM3U",
        expect_pattern=r"segment\d+\.ts",
    )
    playlist = b"#EXTM3U\n#EXT-X-VERSION:3\nsegment001.ts\n"
    assert judge_http(spec, 200, playlist) == ("good", [])
    verdict, problems = judge_http(spec, 404, b"<html>not found</html>")
    assert verdict == "bad"
    assert problems == [
        "expected status 200, got 404",
        "body does not start with '#EXTM3U'",
        "body does not match /segment\\d+\\.ts/",
    ]
    as_json = HttpSpec("http://h/files/", expect_json=True)
    assert judge_http(as_json, 200, b'[{"name":"a.ts"}]')[0] == "good"
    verdict, problems = judge_http(as_json, 200, b"<html>")
    assert verdict == "bad" and problems[0].startswith("body is not valid JSON")


def test_any_status_accepted_when_asked() -> None:
    """expect_status = 'any' leaves only the body to judge."""
    spec = HttpSpec("http://h/", expect_status=None, expect_prefix="down")
    assert judge_http(spec, 503, b"down for maintenance")[0] == "good"


def test_quote_body_shows_the_first_bytes() -> None:
    """Evidence quotes the start of a body and says how much more there was."""
    assert quote_body(b"OK\n") == "body: 'OK\\n'"
    assert quote_body(b"x" * 100) == f"body: {'x' * 80!r} (+20 bytes)"
