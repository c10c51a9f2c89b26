"""The bench's TLS 1.3 resumption scenarios run, for handclasp, and check what they claim (no timing asserts)."""

from __future__ import annotations

import dataclasses
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # the repository root, where bench/ lives

from bench.common import RESUME13_MODES, BenchError, Resume13Mode, Unsupported  # noqa: E402
from bench.pki import BenchPKI, build_pki  # noqa: E402
from bench.runner import scenarios  # noqa: E402
from bench.stack_handclasp import HandclaspStack  # noqa: E402

from handclasp.sessions.cache import ClientSession  # noqa: E402
from handclasp.sessions.tickets import TicketKeys  # noqa: E402


@pytest.fixture(scope="module")
def bench_pki(tmp_path_factory: pytest.TempPathFactory) -> BenchPKI:
    return build_pki(str(tmp_path_factory.mktemp("bench-pki")))


@pytest.fixture(scope="module")
def stack(bench_pki: BenchPKI) -> HandclaspStack:
    return HandclaspStack(bench_pki)


def test_resumption_rows_are_in_the_matrix() -> None:
    keys = {s.key for s in scenarios()}
    assert {f"inproc.resumed13.{mode}" for mode in RESUME13_MODES} <= keys


@pytest.mark.parametrize("mode", RESUME13_MODES)
def test_resumed_handshake_runs_and_chains_tickets(stack: HandclaspStack, mode: Resume13Mode) -> None:
    client_cfg, server_cfg = stack._resume13_configs(mode)
    session: ClientSession = stack._resume13_first(mode, client_cfg, server_cfg)
    for _ in range(3):  # each handshake offers the ticket the previous one brought
        client, server, server_ns = stack._resumed13(mode, client_cfg, server_cfg, session)
        assert server_ns > 0
        for conn in (client, server):
            n = conn.negotiated
            assert n is not None and n.resumed
            assert (n.group is None) == (mode == "psk_ke")
            assert n.early_data_accepted == (mode == "0rtt")
        assert client.session is not None and client.session.ticket != session.ticket
        session = client.session
    op = stack.resume13_op(mode)
    assert op() > 0 and op() > 0
    assert mode in stack.describe_resume13(mode)


def test_a_non_resumed_handshake_fails_the_cell(stack: HandclaspStack) -> None:
    """A ticket the server cannot open means a full handshake, which the row must refuse to time."""
    client_cfg, server_cfg = stack._resume13_configs("psk_dhe_ke")
    session = stack._resume13_first("psk_dhe_ke", client_cfg, server_cfg)
    other_server = dataclasses.replace(server_cfg, ticket_keys=TicketKeys(provider=server_cfg.provider))  # this ticket is unknown there
    with pytest.raises(BenchError, match="resumed=False"):
        stack._resumed13("psk_dhe_ke", client_cfg, other_server, session)


class _RefuseAll:
    """A ReplayGuard that has seen every binder: the server must refuse 0-RTT (and still resume)."""

    def first_use(self, key: bytes, expires_at: float, now: float) -> bool:
        return False


def test_zero_rtt_row_fails_when_the_server_refuses_early_data(stack: HandclaspStack) -> None:
    client_cfg, server_cfg = stack._resume13_configs("0rtt")
    session = stack._resume13_first("0rtt", client_cfg, server_cfg)
    refusing = dataclasses.replace(server_cfg, early_data_anti_replay=_RefuseAll())  # same ticket keys
    with pytest.raises(BenchError, match="not accepted"):
        stack._resumed13("0rtt", client_cfg, refusing, session)


def test_ssl_has_no_psk_ke_or_zero_rtt(bench_pki: BenchPKI) -> None:
    from bench.stack_ssl import SslStack

    ssl_stack = SslStack(bench_pki)
    for mode in ("psk_ke", "0rtt"):
        with pytest.raises(Unsupported):
            ssl_stack.resume13_op(mode)
    op = ssl_stack.resume13_op("psk_dhe_ke")
    assert op() > 0


def test_tlslite_resumes_but_has_no_zero_rtt(bench_pki: BenchPKI) -> None:
    pytest.importorskip("tlslite")
    from bench.stack_tlslite import TlsliteStack

    tlslite_stack = TlsliteStack(bench_pki)
    for mode in ("psk_dhe_ke", "psk_ke"):
        op = tlslite_stack.resume13_op(mode)
        assert op() > 0
    with pytest.raises(Unsupported):
        tlslite_stack.resume13_op("0rtt")
