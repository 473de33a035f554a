"""The emulated board's host-only parts: UART over TCP, terminal view, button script."""
import asyncio
import fakes  # noqa: F401
from emu_board import EmuBoard
from buttons import Button
from st77xx import rgb


def test_uart_streams_reach_a_tcp_peer():
    got = []

    async def echo(reader, writer):
        line = await reader.readline()
        writer.write(b"OK " + line)
        await writer.drain()

    async def main():
        # The unix port cannot tell which port 0 picked: try a few fixed ones.
        for port in range(47311, 47331):
            try:
                server = await asyncio.start_server(echo, "127.0.0.1", port)
                break
            except OSError:
                pass
        board = EmuBoard("stickc", ("127.0.0.1", port))
        reader, writer = await board.uart_streams()
        writer.write(b"SKVER\r\n")
        await writer.drain()
        got.append(await reader.readline())
        writer.close()
        server.close()
    asyncio.run(main())
    assert got == [b"OK SKVER\r\n"]


def test_screen_is_what_the_panel_received():
    """The emulated panel's RAM holds the palette colours of the frame buffer's
    indices, at the same place in both orientations, and changes only on show()."""
    board = EmuBoard("plus")
    d, screen = board.display, board.screen
    d.set_palette((0, rgb(255, 0, 0), rgb(0, 0, 255)))

    def draw(_):
        d.fill(0)
        d.fill_rect(3, 130, 2, 5, 1)  # in the last strip
        d.pixel(239, 0, 2)
    for flip in (False, True):
        if flip:
            board.flip()  # rotation 3: other offsets, same picture
        d.paint(draw, None)
        buf = screen.buffer
        assert buf[(134 * 240 + 4) * 2:(134 * 240 + 5) * 2] == b"\xF8\x00"
        assert buf[239 * 2:240 * 2] == b"\x00\x1F"
        assert sum(1 for i in range(0, len(buf), 2) if buf[i] or buf[i + 1]) == 11
    d.fill(1)
    assert screen.buffer[0] == 0


def test_button_script():
    board = EmuBoard("stickc")
    got = []
    a = Button(board.pin_a, lambda: got.append("A"), lambda: got.append("A long"))
    b = Button(board.pin_b, lambda: got.append("B"))

    async def main():
        tasks = [asyncio.create_task(a.run()), asyncio.create_task(b.run())]
        await board.play(((0, "A", "short"), (200, "B", "short"), (400, "A", "long")))
        await asyncio.sleep_ms(100)
        for t in tasks:
            t.cancel()
    asyncio.run(main())
    assert got == ["A", "B", "A long"]
