"""`scopecheck serve`: the workstation in a browser (live view, shoot, gallery, compare viewer)."""
from __future__ import annotations

import errno
import os
import secrets
import sys

from scopecheck.compare.errors import InputError

from .common import add_json, one_line, print_json


def register(sub) -> None:
    p = sub.add_parser("serve", help="web workstation: live view, shoot, gallery, compare viewer, HTTP API",
                       description="Serve a local web page (and a JSON API under /api, described at "
                                   "/openapi.json) for the device and the shots in --dir: live view with focus "
                                   "and histogram, controls, shooting (as scopecheck capture), a gallery, a "
                                   "compare viewer (side by side, swipe, blink, onion skin, heat map, zoom) "
                                   "and duplicate search. Ctrl-C stops it and restores the camera's settings. "
                                   "Needs the web extra: pip install 'scopecheck[web]'.")
    p.add_argument("--device", metavar="D",
                   help="camera index (0), device path, recording (dir/frame_%%04d.png or a video file) or sim; "
                        "without it only the gallery, compare and duplicates work")
    p.add_argument("--dir", default="shots", metavar="DIR",
                   help="folder the shots go to and the only folder served (default ./shots, created if missing)")
    p.add_argument("--host", default="127.0.0.1",
                   help="address to listen on (default 127.0.0.1: this machine only; others need --token)")
    p.add_argument("--port", type=int, default=8765, help="TCP port (default 8765; 0 picks a free one)")
    p.add_argument("--token", metavar="T",
                   help="require this token on every request (needed with a non-loopback --host); "
                        "'auto' makes a random one")
    p.add_argument("--fps", type=float, default=8.0, help="live view frames per second (default 8)")
    add_json(p)
    p.set_defaults(func=run)


def run(args) -> int:
    if not 0 <= args.port <= 65535:
        raise InputError(f"--port {args.port}: use 0..65535")
    token = secrets.token_urlsafe(18) if args.token == "auto" else args.token
    if token is not None and len(token) < 8:
        raise InputError("--token: use at least 8 characters (or --token auto)")
    try:
        import uvicorn

        from scopecheck.serve.app import create_app, is_loopback
    except ModuleNotFoundError as e:
        raise InputError(f"serve needs the web extra ({e.name} is missing): pip install 'scopecheck[web]'") from None
    if not is_loopback(args.host) and not token:
        raise InputError(f"--host {args.host}: serving beyond this machine needs --token T (or --token auto)")
    if not os.path.isdir(args.dir):
        if os.path.lexists(args.dir):
            raise InputError(f"--dir {args.dir!r}: exists and is not a directory")
        try:
            os.makedirs(args.dir)
        except OSError as e:
            raise InputError(f"--dir {args.dir!r}: cannot create it: {e.strerror or e}") from None
    sock = _listen(args.host, args.port)  # a port in use or a bad --host: one line, before the app starts

    def log(msg):
        print(f"scopecheck serve: {one_line(msg)}", file=sys.stderr, flush=True)

    app = create_app(args.dir, device=args.device, token=token, host=args.host, fps=args.fps, log=log)
    config = uvicorn.Config(app, host=args.host, port=args.port, log_level="warning", access_log=False,
                            timeout_graceful_shutdown=3, lifespan="on")
    server = _server_class(uvicorn)(config, app=app, args=args, token=token)
    server.run(sockets=[sock])  # Ctrl-C: uvicorn stops, the lifespan closes the device and restores its settings
    return 0  # after Ctrl-C uvicorn re-raises SIGINT: the CLI reports "interrupted" and exits 130


def _listen(host: str, port: int):
    """A socket bound to ``host:port`` (uvicorn listens on it), or one InputError saying why not."""
    import socket

    try:
        family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM,
                                                             flags=socket.AI_PASSIVE)[0]
    except (socket.gaierror, UnicodeError) as e:
        raise InputError(f"--host {host!r}: not an address of this machine ({getattr(e, 'strerror', None) or e})") from None
    sock = socket.socket(family, kind, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if family == socket.AF_INET6:
            sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
        sock.bind(address)
    except OSError as e:
        sock.close()
        hint = "; choose another --port (0 picks a free one)" if e.errno == errno.EADDRINUSE else ""
        raise InputError(f"cannot listen on {host} port {port}: {e.strerror or e}{hint}") from None
    return sock


def _server_class(uvicorn):
    class Server(uvicorn.Server):
        """uvicorn's server that prints the address once bound and ends live streams on Ctrl-C."""

        def __init__(self, config, *, app, args, token):
            super().__init__(config)
            self.scopecheck = (app, args, token)

        def handle_exit(self, sig, frame):  # end the live streams first, or shutdown waits for them
            self.scopecheck[0].state.stopping.set()
            super().handle_exit(sig, frame)

        async def startup(self, sockets=None):
            await super().startup(sockets=sockets)
            if self.started:
                _announce(self, *self.scopecheck[1:])
    return Server


def _announce(server, args, token):
    """Print the address once the socket is bound (so --port 0 shows the real port)."""
    port = args.port
    for s in server.servers:
        for sock in s.sockets:
            port = sock.getsockname()[1]
    host = f"[{args.host}]" if ":" in args.host else args.host
    url = f"http://{host}:{port}/" + (f"?token={token}" if token else "")
    if args.json:
        print_json({"url": url, "host": args.host, "port": port, "dir": os.path.abspath(args.dir),
                    "device": args.device, "api": f"http://{host}:{port}/openapi.json"})
    else:
        print(f"scopecheck workstation on {url}  (shots in {os.path.abspath(args.dir)}; Ctrl-C to stop)",
              flush=True)
