"""The rough edges of issue 23: plain text with NO_COLOR, sample names, help texts, train's
data loss, step after train."""

from __future__ import annotations

from click.testing import CliRunner

from circuitcli.cli import main


def invoke(*args: str, env: dict[str, str] | None = None, input: str | None = None):
    return CliRunner().invoke(main, list(args), env={"CIRCUIT_SESSION": "off", **(env or {})},
                              input=input)


def test_no_color_is_plain_text_on_a_terminal() -> None:
    """README: NO_COLOR gives plain text; no colour, no bold, no dim."""
    styled = invoke("grad", "x - y", "x=1", "y=1", env={"FORCE_COLOR": "1", "TERM": "xterm"})
    assert "\x1b[1m" in styled.output  # bold on a terminal
    r = invoke("grad", "x - y", "x=1", "y=1", env={"NO_COLOR": "1", "FORCE_COLOR": "1",
                                                  "TERM": "xterm"})
    assert r.exit_code == 0 and "\x1b[" not in r.output
    r = invoke("repl", env={"NO_COLOR": "1", "FORCE_COLOR": "1"}, input="x*y\nx=2\ny=3\n")
    assert "\x1b[" not in r.output


def test_misspelled_sample_gets_did_you_mean(tmp_path, monkeypatch) -> None:
    r = invoke("grad", "nueron.circuit")
    assert r.exit_code == 2
    assert "did you mean neuron.circuit?" in r.output
    r = invoke("grad", "nueron")
    assert r.exit_code == 2 and "did you mean neuron.circuit?" in r.output
    r = invoke("grad", "zzzzzz.circuit")
    assert r.exit_code == 2 and "did you mean" not in r.output
    # a file of the user's own, in the folder named
    (tmp_path / "my_model.circuit").write_text("x*2\n")
    r = invoke("grad", str(tmp_path / "my_modle.circuit"), "x=1")
    assert f"did you mean {tmp_path / 'my_model.circuit'}?" in r.output
    monkeypatch.chdir(tmp_path)
    assert "did you mean my_model.circuit?" in invoke("grad", "my_modle.circuit").output
