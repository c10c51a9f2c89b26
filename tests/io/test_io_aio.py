"""What only the asyncio adapter has: StreamWriter look-alike details."""

from __future__ import annotations

import asyncio

import io_harness as h
import pytest

from handclasp.errors import HandclaspError
from handclasp.io import aio
from handclasp.tools.certs import LocalCA
from handclasp.wire.enums import ProtocolVersion


async def _line_echo(reader: asyncio.StreamReader, writer: aio.TLSStreamWriter) -> None:
    async for line in reader:
        writer.write(line.upper())
        await writer.drain()
    writer.close()
    await writer.wait_closed()


def test_streams_behave_like_asyncio_streams() -> None:
    async def scenario() -> None:
        server = await aio.start_server(_line_echo, "127.0.0.1", 0, h.server_config())
        port = server.sockets[0].getsockname()[1]
        async with server:
            reader, writer = await aio.open_connection("127.0.0.1", port, h.client_config(),
                                                       server_name="localhost")
            assert writer.get_extra_info("negotiated").version == ProtocolVersion.TLS1_3
            assert writer.get_extra_info("peername")[1] == port
            writer.writelines([b"one\n", b"two\n"])
            await writer.drain()
            assert await reader.readline() == b"ONE\n"
            assert await reader.readline() == b"TWO\n"
            writer.write_eof()
            assert await reader.read() == b""
            writer.close()
            assert writer.is_closing()
            await asyncio.wait_for(writer.wait_closed(), h.TIMEOUT)
            with pytest.raises(HandclaspError):
                writer.write(b"too late")

    asyncio.run(asyncio.wait_for(scenario(), h.TIMEOUT))


def test_handshake_failure_reaches_on_error() -> None:
    async def scenario() -> list[BaseException]:
        errors: list[BaseException] = []
        server = await aio.start_server(_line_echo, "127.0.0.1", 0, h.server_config(),
                                        on_error=lambda addr, exc: errors.append(exc))
        port = server.sockets[0].getsockname()[1]
        async with server:
            with pytest.raises(HandclaspError):
                await aio.open_connection("127.0.0.1", port, h.client_config(cadata=LocalCA.create().root_pem),
                                          server_name="localhost")
            for _ in range(100):
                if errors:
                    break
                await asyncio.sleep(0.05)
        return errors

    errors = asyncio.run(asyncio.wait_for(scenario(), h.TIMEOUT))
    assert len(errors) == 1 and isinstance(errors[0], HandclaspError)
