"""The browser tests' own checks must be able to fail: the offline check refuses failed
requests and requests to any host but 127.0.0.1."""

from __future__ import annotations

import pytest

from tests.app.conftest import Traffic

LOCAL = "http://127.0.0.1:8765/_solara/cdn/vega@5/build/vega.min.js"


def test_offline_check_passes_local_traffic() -> None:
    Traffic(requests=[LOCAL, "data:image/png;base64,AAAA"]).check_offline()


@pytest.mark.parametrize(
    ("traffic", "message"),
    [
        (Traffic(requests=[LOCAL, "https://cdn.jsdelivr.net/npm/vega@5"]), "other hosts"),
        (Traffic(requests=[LOCAL, "http://localhost:8765/"]), "other hosts"),
        (Traffic(requests=[LOCAL], failed=[(LOCAL, "HTTP 404")]), "failed requests"),
        (Traffic(), "no requests"),
    ],
)
def test_offline_check_refuses_other_hosts_and_failures(traffic: Traffic, message: str) -> None:
    with pytest.raises(AssertionError, match=message):
        traffic.check_offline()
