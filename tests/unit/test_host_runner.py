"""The command interface: quoting, results and the scripted double."""

from __future__ import annotations

import pytest

from bisect_tui.host.runner import (
    CommandResult,
    Reply,
    ScriptedRunner,
    UnexpectedCommand,
    first_line,
    remote_command_line,
)


def test_remote_command_line_quotes_every_word() -> None:
    """Spaces, quotes and shell metacharacters reach the host as one word each."""
    line = remote_command_line(["echo", "a b", "it's", "$(x);"])
    assert line == "echo 'a b' 'it'\"'\"'s' '$(x);'"


def test_remote_command_line_sudo_never_prompts() -> None:
    """Sudo commands carry -n so a missing rule fails instead of hanging."""
    line = remote_command_line(["systemctl", "daemon-reload"], sudo=True)
    assert line == "sudo -n -- systemctl daemon-reload"


def test_remote_command_line_rejects_empty() -> None:
    """An empty argv is a programming error, not a remote no-op."""
    with pytest.raises(ValueError):
        remote_command_line([])


def test_describe_names_command_status_and_complaint() -> None:
    """The one-line description carries the first line of stderr."""
    result = CommandResult(("false", "x y"), 1, "", "\n  boom\nmore\n", 0.1)
    assert result.describe() == "false 'x y' exited 1: boom"
    assert not result.ok


def test_first_line_skips_blank_lines() -> None:
    """Leading blank lines are not a message."""
    assert first_line("\n \nhello \nworld") == "hello"
    assert first_line("  \n") == ""


def test_scripted_replies_in_order_last_repeats() -> None:
    """A list of replies is consumed in order and its last reply sticks."""
    runner = ScriptedRunner({("is-it",): [Reply(1), Reply(0, "yes")]})
    assert runner.run(["is-it"]).exit_status == 1
    assert runner.run(["is-it"]).stdout == "yes"
    assert runner.run(["is-it"]).stdout == "yes"


def test_scripted_records_calls_and_sudo() -> None:
    """Calls are recorded with sudo, stdin and timeout."""
    runner = ScriptedRunner()
    runner.expect(["tee", "/x"], 0)
    result = runner.run(["tee", "/x"], sudo=True, stdin="data", timeout=5)
    assert result.sudo
    assert runner.calls[0].stdin == "data"
    assert runner.calls[0].timeout == 5
    assert runner.commands() == ["sudo -n -- tee /x"]


def test_scripted_unknown_command_raises_unless_handled() -> None:
    """Unscripted commands fail loudly; a handler may answer them."""
    runner = ScriptedRunner()
    with pytest.raises(UnexpectedCommand):
        runner.run(["rm", "-rf", "/"])
    handled = ScriptedRunner(handler=lambda call: Reply(0, call.argv[-1]))
    assert handled.run(["echo", "hi"]).stdout == "hi"


def test_scripted_stream_answers_and_records() -> None:
    """open_tcp returns a stream with the canned bytes and keeps what was sent."""
    runner = ScriptedRunner(streams={("127.0.0.1", 9113): b"HTTP/1.1 200 OK\r\n"})
    stream = runner.open_tcp("127.0.0.1", 9113, timeout=3)
    stream.sendall(b"GET / HTTP/1.1\r\n")
    assert stream.recv(8) == b"HTTP/1.1"
    assert stream.recv(100) == b" 200 OK\r\n"
    assert stream.recv(100) == b""
    assert bytes(stream.sent) == b"GET / HTTP/1.1\r\n"
    assert stream.timeout == 3
    with pytest.raises(UnexpectedCommand):
        runner.open_tcp("127.0.0.1", 1)
