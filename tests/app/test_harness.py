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


class EventsAfter:
    """A stand-in page: its requests end after ``calls`` waits (Playwright delivers events
    while the test waits)."""

    def __init__(self, traffic: Traffic, calls: int) -> None:
        self.traffic, self.calls, self.waits = traffic, calls, 0

    def wait_for_timeout(self, ms: float) -> None:
        self.waits += 1
        if self.waits == self.calls:
            self.traffic.in_flight = 0


def test_settle_waits_until_no_request_is_in_flight() -> None:
    traffic = Traffic(requests=[LOCAL], in_flight=2)
    page = EventsAfter(traffic, calls=3)
    traffic.settle(page)
    assert page.waits == 3 and traffic.in_flight == 0
    Traffic().settle(page)  # nothing in flight: returns at once
    assert page.waits == 3


def test_settle_gives_up_on_a_request_that_never_ends() -> None:
    traffic = Traffic(requests=[LOCAL], in_flight=1)
    with pytest.raises(TimeoutError, match="1 request"):
        traffic.settle(EventsAfter(traffic, calls=-1), timeout=0.2)
