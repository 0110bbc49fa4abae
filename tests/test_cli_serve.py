"""`devsearch serve` as a command: its one-line errors, and a real server process over real HTTP."""
from __future__ import annotations

import json
import signal
import socket
import urllib.request
from pathlib import Path

import pytest
from typer.testing import CliRunner

from devsearch.cli.app import app
from tests.serve_library import make_library, start_server


@pytest.fixture(scope="module")
def library(tmp_path_factory: pytest.TempPathFactory):
    return make_library(tmp_path_factory.mktemp("cli-serve"))


def run(*args: str):
    return CliRunner().invoke(app, ["serve", *args])


def test_an_empty_store_is_a_one_line_error(tmp_path):
    result = run("--home", str(tmp_path / "nothing"))
    assert result.exit_code == 7 and result.stdout == ""
    assert result.stderr.strip().startswith("devsearch: error: no photos indexed") and len(result.stderr.splitlines()) == 1


def test_an_empty_token_is_a_one_line_error(library):
    result = run("--home", str(library.home), "--token", "")
    assert result.exit_code == 2 and "--token is empty" in result.stderr


def test_a_port_in_use_is_a_one_line_error(library):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        result = run("--home", str(library.home), "--port", str(port))
    assert result.exit_code == 2 and f"cannot listen on 127.0.0.1:{port}" in result.stderr
    assert len(result.stderr.splitlines()) == 1


def test_a_real_process_prints_its_url_answers_and_stops_on_ctrl_c(library):
    process, url = start_server(library.home, library.cache)
    try:
        with urllib.request.urlopen(url + "api/search?q=cat&n=1", timeout=30) as response:
            body = json.load(response)
            assert response.headers["x-content-type-options"] == "nosniff"
        assert Path(body["results"][0]["path"]).name == "cat.jpg"
    finally:
        process.send_signal(signal.SIGINT)
        code = process.wait(timeout=30)
    assert code == 0


def test_the_printed_url_works_whatever_the_token_holds(library):
    process, url = start_server(library.home, library.cache, "--token", "a+b&c#d%e f/é€")
    try:
        browser = urllib.request.build_opener(urllib.request.HTTPCookieProcessor())  # follows the 303, keeps the cookie
        with browser.open(url, timeout=30) as page:
            assert page.status == 200 and b"<html" in page.read().lower()
        with browser.open(url.split("?")[0] + "api/status", timeout=30) as status:
            assert status.status == 200
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(timeout=30)


def test_the_listening_socket_is_tcp_so_responses_are_not_held_back_by_nagle():
    from devsearch.serve.server import bind

    sock = bind("127.0.0.1", 0)
    try:
        assert sock.proto == socket.IPPROTO_TCP  # asyncio sets TCP_NODELAY only on such sockets
    finally:
        sock.close()
