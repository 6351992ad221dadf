"""A fan-out client process: opens agent WebSockets and records when each MessageSent event arrives.

    python -m bench.fanout WS_URL TOKENS_FILE OUT_FILE

Prints "ready" once every socket got its Connected frame; on stdin EOF it closes the sockets and writes
`[[MessageID, received_at (time.time())], ...]` to OUT_FILE.
"""

import asyncio
import json
import sys
import time
from pathlib import Path

import websockets


async def main(url: str, tokens_file: str, out_file: str) -> None:
    tokens = json.loads(Path(tokens_file).read_text())
    received: list[tuple[int, float]] = []
    sockets = []
    for token in tokens:
        ws = await websockets.connect(f"{url}?SessionToken={token}", compression=None, max_queue=None,
                                      open_timeout=60)
        json.loads(await ws.recv())  # Connected
        sockets.append(ws)

    async def listen(ws) -> None:
        try:
            async for frame in ws:
                now = time.time()
                if '"MessageSent"' in frame:
                    received.append((json.loads(frame)["Data"]["MessageID"], now))
        except websockets.ConnectionClosed:
            return

    tasks = [asyncio.create_task(listen(ws)) for ws in sockets]
    print("ready", flush=True)
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)
    for ws in sockets:
        await ws.close()
    await asyncio.gather(*tasks, return_exceptions=True)
    with open(out_file, "w") as out:
        json.dump(received, out)


if __name__ == "__main__":
    # uvloop, as the server runs: the clients share the two cores with it, and their own loop's cost per frame
    # would otherwise be counted as delivery latency.
    import uvloop

    uvloop.run(main(*sys.argv[1:4]))
