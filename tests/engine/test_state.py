"""The package flow tables."""

from __future__ import annotations

import pytest

from syncml_codec.engine._state import CLIENT_TABLE, SERVER_TABLE, ClientPhase, Event, ServerPhase, advance
from syncml_codec.errors import ProtocolError


def test_server_happy_path() -> None:
    phase = ServerPhase.INIT
    for event in (Event.FINAL, Event.FINAL, Event.MORE_OUT, Event.MESSAGE, Event.ALL_OUT, Event.FINAL):
        phase = advance(SERVER_TABLE, phase, event)
    assert phase is ServerPhase.DONE


def test_combined_init_and_modifications() -> None:
    assert advance(SERVER_TABLE, ServerPhase.INIT, Event.FINAL_SYNC) is ServerPhase.SERVER_MODS


def test_client_happy_path_and_failure() -> None:
    phase = ClientPhase.START
    for event in (Event.SENT, Event.FINAL, Event.MESSAGE, Event.FINAL, Event.FINAL):
        phase = advance(CLIENT_TABLE, phase, event)
    assert phase is ClientPhase.DONE
    assert advance(CLIENT_TABLE, ClientPhase.MODS, Event.FAIL) is ClientPhase.FAILED


@pytest.mark.parametrize(("phase", "event"), [(ServerPhase.DONE, Event.FINAL), (ServerPhase.MAP, Event.MORE_OUT),
                                              (ServerPhase.INIT, Event.ALL_OUT)])
def test_anything_else_is_a_protocol_error(phase: ServerPhase, event: Event) -> None:
    with pytest.raises(ProtocolError) as info:
        advance(SERVER_TABLE, phase, event)
    assert info.value.status == 400
