"""The staff console on the test databases, with the demo members and staff accounts."""

from __future__ import annotations

import re

import pytest

from ivr_sim.demo import load_demo
from staff_console import accounts_for, create_app
from tests.conftest import app_settings

PASSWORD = "correct horse battery"
# The demo's Ana Lopez, on the Northern California line, on the demo's Friday noon.
ANA_MRN, ANA_BIRTH = "10000001", "04121980"
NCAL_LINE = "+18773659900"
CALL_AT = "2026-11-27T12:00"


@pytest.fixture
def console(core, clock):
    load_demo(core)
    app = create_app(app_settings(core, clock))
    accounts = accounts_for(app)
    accounts.add("quinn", PASSWORD, ["qa"])
    accounts.add("bea", PASSWORD, ["billing"])
    accounts.add("dana", PASSWORD, ["qa", "billing"])
    return app


def csrf_token(page_text: str) -> str:
    found = re.search(r'name="csrf-token" content="([^"]+)"', page_text)
    assert found, "the page carries no CSRF token"
    return found.group(1)


def sign_in(client, username: str, password: str = PASSWORD):
    token = csrf_token(client.get("/sign-in").get_data(as_text=True))
    return client.post(
        "/sign-in", data={"csrf_token": token, "username": username, "password": password}
    )


class Phone:
    """The softphone's endpoints, as the page's script calls them."""

    def __init__(self, client) -> None:
        self.client = client
        self.token = csrf_token(client.get("/phone").get_data(as_text=True))
        self.state: dict = {}

    def post(self, path: str, body: dict | None = None):
        return self.client.post(path, json=body or {}, headers={"X-CSRFToken": self.token})

    def dial(self, to: str = NCAL_LINE, at: str = CALL_AT, **more) -> dict:
        answer = self.post("/phone/calls", {"to": to, "at": at, **more})
        assert answer.status_code == 201, answer.get_json()
        self.state = answer.get_json()
        return self.state

    def act(self, action: str, **body):
        answer = self.post(f"/phone/calls/{self.state['id']}/{action}", body)
        if answer.status_code == 200:
            self.state = answer.get_json()
        return answer

    def heard_since(self, count: int) -> list[str]:
        return [line["text"] for line in self.state["lines"][count:]]
